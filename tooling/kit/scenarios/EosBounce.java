package kit.scenarios;

import kit.broker.EmbeddedKafka;
import kit.faults.FaultPlan;
import kit.faults.FaultyKafka;
import kit.run.Program;
import kit.run.ScriptOutput;
import kit.run.ScriptRunner;
import kit.run.Topics;
import kit.util.Errors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.IsolationLevel;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.protocol.ApiKeys;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Random;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.IntStream;

/**
 * Kafka's own transactions test on one machine (tests/kafkatest/tests/core/transactions_test.py): the real
 * exactly-once copier (scripts/ConsumerExactlyOnce.java) copies numbered records while every broker is hard-bounced
 * once (the transaction coordinator and an output leader among them), the copier is killed and relaunched three
 * times, and one EndTxn response and one TxnOffsetCommit request are lost. Then the claims, as set equalities.
 */
public final class EosBounce {

    /** What to copy: records, input and output partitions; ordered: also check that the output keeps the input order. */
    public record Plan(int records, int inputPartitions, int outputPartitions, boolean ordered, long seed) {
        public static Plan unordered(long seed) { return new Plan(20_000, 2, 3, false, seed); }
        public static Plan ordered(long seed) { return new Plan(10_000, 1, 1, true, seed); }
    }

    /** The counts, the faults that fired, and what (if anything) broke a claim. */
    public record Outcome(String label, int input, int output, int lost, int duplicated, int abortedReads, int tornTransactions,
                          int concurrentRead, int concurrentDuplicated, boolean offsetsAtEnd, boolean noHangingTransaction,
                          boolean orderKept, List<String> events, Duration took, List<String> violations) {
        public boolean passed() { return violations.isEmpty(); }
    }

    private static final Pattern ABORTED = Pattern.compile("transaction (\\S+) AVORTÉE");

    private final FaultyKafka kafka;
    private final Duration runLimit;
    private final Consumer<String> progress;

    public EosBounce(FaultyKafka kafka, Duration runLimit, Consumer<String> progress) {
        if (kafka.cluster().size() != 3) throw new IllegalArgumentException("eos-bounce demande 3 nœuds");
        this.kafka = kafka;
        this.runLimit = runLimit;
        this.progress = progress;
    }

    /** The copier under bounces, kills and lost transaction requests. */
    public Outcome copier(Path script, Plan plan) throws Exception {
        long t0 = System.nanoTime();
        String bootstrap = kafka.bootstrapServers();
        String id = UUID.randomUUID().toString().replace("-", "").substring(0, 8);
        String in = "eos-in-" + id;
        String out = "eos-out-" + id;
        String group = "g-eos-" + id;
        String txId = "tx-eos-" + id;
        Random random = new Random(plan.seed());
        Topics.create(bootstrap, in, plan.inputPartitions());
        Topics.create(bootstrap, out, plan.outputPartitions());
        List<String> input = IntStream.rangeClosed(1, plan.records()).mapToObj(i -> id + "-" + i).toList();
        Topics.fill(bootstrap, in, input, plan.ordered() ? 0 : null);
        progress.accept("entrée : " + input.size() + " messages sur " + plan.inputPartitions() + " partition(s)");

        // small polls make many small transactions: the faults land in the middle of the copy
        Path config = Files.createTempFile("eos-bounce", ".properties");
        Files.writeString(config, "max.poll.records=" + (plan.ordered() ? 50 : 100) + "\n");
        // --instance-id: the copier relaunched after a kill takes the dead one's place in the group at once
        List<String> args = List.of("-b", bootstrap, "-t", in, "-g", group, "--instance-id", group + "-copieur", "--output-topic", out,
                "--transactional-id", txId, "--idle-ms", "6000", "--config", config.toString());

        Program.Build build = Program.prepare(script).join();
        if (!build.ok()) throw new IllegalStateException("le copieur ne se construit pas : " + build.problem());

        Reader reader = new Reader(bootstrap, out);
        reader.start();
        List<String> events = new ArrayList<>();
        FaultPlan faults = kafka.faults();
        // one lost EndTxn response and one lost TxnOffsetCommit request, early enough to hit
        FaultPlan.Rule endTxn = faults.add(FaultPlan.Kind.LOSE_RESPONSE, ApiKeys.END_TXN, 3 + random.nextInt(5), null, 0);
        FaultPlan.Rule offsets = faults.add(FaultPlan.Kind.LOSE_REQUEST, ApiKeys.TXN_OFFSET_COMMIT, 8 + random.nextInt(8), null, 0);

        // progress thresholds (fractions of the input seen by the concurrent reader): 3 kills, 3 bounces
        double k1 = 0.15 + random.nextDouble() * 0.05;
        double[] kills = {k1, k1 + 0.22, k1 + 0.47};
        double[] bounces = {0.08 + random.nextDouble() * 0.04, 0.32 + random.nextDouble() * 0.05, 0.55 + random.nextDouble() * 0.05};
        List<Integer> bounced = new ArrayList<>();
        StringBuilder stdout = new StringBuilder();
        AtomicReference<Process> running = new AtomicReference<>();
        int launches = 0;
        int killIndex = 0;
        int bounceIndex = 0;
        long deadline = System.nanoTime() + runLimit.toNanos();
        CompletableFuture<ScriptRunner.Result> copy = launch(build, args, running);
        launches++;
        String problem = null;
        try {
            while (true) {
                if (System.nanoTime() > deadline) {
                    problem = "délai dépassé (" + runLimit.toSeconds() + " s) : " + reader.count() + " / " + input.size() + " copiés";
                    break;
                }
                double done = reader.count() / (double) input.size();
                if (bounceIndex < bounces.length && done >= bounces[bounceIndex]) {
                    int node = pickBounce(bounceIndex, bounced, txId, out);
                    bounced.add(node);
                    EmbeddedKafka cluster = kafka.cluster();
                    int index = cluster.indexOf(node);
                    String why = bounceIndex == 0 ? " (coordinateur de la transaction)" : bounceIndex == 1 ? " (leader d'une partition de sortie)" : "";
                    progress.accept(String.format("%3.0f %% : nœud %d arrêté brutalement%s", done * 100, node, why));
                    cluster.crashNode(index);
                    Thread.sleep(1000);
                    cluster.restartNode(index);
                    events.add("nœud " + node + " arrêté brutalement puis redémarré" + why);
                    bounceIndex++;
                    continue;
                }
                if (killIndex < kills.length && done >= kills[killIndex] && running.get() != null) {
                    progress.accept(String.format("%3.0f %% : copieur tué (kill -9), relancé", done * 100));
                    ScriptRunner.killTree(running.get().toHandle());
                    stdout.append(copy.join().stdout());
                    events.add(String.format("copieur tué à %.0f %% et relancé", done * 100));
                    copy = launch(build, args, running);
                    launches++;
                    killIndex++;
                    continue;
                }
                if (copy.isDone()) {
                    ScriptRunner.Result r = copy.join();
                    stdout.append(r.stdout());
                    if (r.exitCode() != 0) {
                        // a copier that dies of its own (a fatal error) is relaunched, as an operator would: counted
                        events.add("le copieur s'est arrêté seul (code " + r.exitCode() + ") : " + lastLine(r.stderr()));
                        if (launches > 8) {
                            problem = "le copieur échoue sans cesse : " + lastLine(r.stderr());
                            break;
                        }
                        copy = launch(build, args, running);
                        launches++;
                        continue;
                    }
                    if (reader.count() >= input.size()) {
                        if (killIndex < kills.length || bounceIndex < bounces.length) {
                            problem = "la copie a fini avant toutes les pannes (" + killIndex + " crash(s) sur 3, " + bounceIndex + " arrêt(s) de nœud sur 3)";
                        }
                        break;
                    }
                    copy = launch(build, args, running); // stopped on silence before the end (a bounce): carry on
                    launches++;
                    continue;
                }
                Thread.sleep(50);
            }
        } finally {
            if (running.get() != null && running.get().isAlive()) ScriptRunner.killTree(running.get().toHandle());
            for (FaultPlan.Rule r : faults.rules()) {
                if (r.id() == endTxn.id()) events.add(describe(r, "réponse EndTxn perdue"));
                if (r.id() == offsets.id()) events.add(describe(r, "requête TxnOffsetCommit perdue"));
            }
            faults.clear();
            Files.deleteIfExists(config);
        }
        reader.awaitCount(input.size(), Duration.ofSeconds(20));
        reader.finish();
        return verdict(plan.ordered() ? "copie ordonnée 1→1" : "copie " + plan.inputPartitions() + "→" + plan.outputPartitions(),
                bootstrap, in, out, group, input, plan.ordered(), reader, stdout.toString(), events, problem, t0);
    }

    /**
     * The exactly-once producer (scripts/ProducerExactlyOnce.java) writes numbered records in transactions, one in
     * {@code abortEvery} aborted on purpose, while every node is hard-bounced once and one EndTxn response is lost:
     * nothing it reports committed may be lost, nothing aborted may be visible, and nothing may be doubled.
     */
    public Outcome producer(Path script, int records, long seed) throws Exception {
        long t0 = System.nanoTime();
        String bootstrap = kafka.bootstrapServers();
        String id = UUID.randomUUID().toString().replace("-", "").substring(0, 8);
        String topic = "eos-prod-" + id;
        Topics.create(bootstrap, topic, 3);
        Random random = new Random(seed);
        Program.Build build = Program.prepare(script).join();
        if (!build.ok()) throw new IllegalStateException("le producteur ne se construit pas : " + build.problem());
        FaultPlan faults = kafka.faults();
        FaultPlan.Rule endTxn = faults.add(FaultPlan.Kind.LOSE_RESPONSE, ApiKeys.END_TXN, 3 + random.nextInt(5), null, 0);
        Reader reader = new Reader(bootstrap, topic);
        reader.start();
        List<String> args = List.of("-b", bootstrap, "-t", topic, "--count", String.valueOf(records), "--transaction-size", "20",
                "--abort-every", "7", "--interval-ms", "2", "--run-id", id, "--transactional-id", "tx-" + id);
        AtomicReference<Process> running = new AtomicReference<>();
        CompletableFuture<ScriptRunner.Result> run = launch(build, args, running);
        List<String> events = new ArrayList<>();
        List<Integer> bounced = new ArrayList<>();
        double[] bounces = {0.15 + random.nextDouble() * 0.05, 0.40 + random.nextDouble() * 0.05, 0.62 + random.nextDouble() * 0.05};
        int committedEstimate = records * 6 / 7;
        String problem = null;
        try {
            for (int b = 0; b < bounces.length && problem == null; b++) {
                while (!run.isDone() && reader.count() < bounces[b] * committedEstimate) Thread.sleep(50);
                if (run.isDone()) {
                    problem = "le producteur a fini avant les " + bounces.length + " arrêts de nœud (" + b + " faits)";
                    break;
                }
                int node = pickBounce(b == 0 ? 1 : 2, bounced, "tx-" + id, topic);
                bounced.add(node);
                int index = kafka.cluster().indexOf(node);
                progress.accept(String.format("%3.0f %% : nœud %d arrêté brutalement", 100.0 * reader.count() / committedEstimate, node));
                kafka.cluster().crashNode(index);
                Thread.sleep(1000);
                kafka.cluster().restartNode(index);
                events.add("nœud " + node + " arrêté brutalement puis redémarré");
            }
        } finally {
            for (FaultPlan.Rule r : faults.rules()) if (r.id() == endTxn.id()) events.add(describe(r, "réponse EndTxn perdue"));
            faults.clear();
        }
        ScriptRunner.Result r = run.join();
        List<String> violations = new ArrayList<>();
        if (problem != null) violations.add(problem);
        if (r.exitCode() != 0) violations.add("le producteur a échoué (code " + r.exitCode() + ") : " + lastLine(r.stderr()));
        ScriptOutput out = r.output();
        Set<Long> notCommitted = new HashSet<>(out.summaryLongs("abortedSeqs"));
        notCommitted.addAll(out.summaryLongs("failedSeqs"));
        int sent = out.hasSummary() ? out.summaryInt("sent") : 0;
        if (sent != records) violations.add("envoyés : " + sent + " sur " + records);
        List<String> committed = IntStream.rangeClosed(1, sent).filter(i -> !notCommitted.contains((long) i)).mapToObj(i -> id + "-" + i).toList();
        Set<String> aborted = new HashSet<>();
        out.summaryLongs("abortedSeqs").forEach(i -> aborted.add(id + "-" + i));
        out.summaryLongs("failedSeqs").forEach(i -> aborted.add(id + "-" + i));
        List<ConsumerRecord<String, String>> visible = Topics.readAllPartitions(bootstrap, topic, true);
        Map<String, Integer> seen = new HashMap<>();
        for (var rec : visible) seen.merge(rec.value(), 1, Integer::sum);
        int lost = (int) committed.stream().filter(v -> !seen.containsKey(v)).count();
        int duplicated = seen.values().stream().mapToInt(n -> n - 1).sum();
        int abortedReads = (int) seen.keySet().stream().filter(aborted::contains).count();
        if (lost > 0) violations.add(lost + " message(s) validé(s) perdu(s)");
        if (duplicated > 0) violations.add(duplicated + " doublon(s)");
        if (abortedReads > 0) violations.add(abortedReads + " message(s) avorté(s) visibles en read_committed");
        if (out.summaryLongs("failedSeqs").size() > 0) events.add(out.summaryLongs("failedSeqs").size() + " message(s) en échec après 5 essais");
        reader.awaitCount(seen.size(), Duration.ofSeconds(20));
        reader.finish();
        List<String> concurrent = reader.values();
        int concurrentDuplicated = concurrent.size() - new HashSet<>(concurrent).size();
        if (!new HashSet<>(concurrent).equals(seen.keySet())) violations.add("le lecteur concurrent n'a pas vu le même ensemble");
        if (concurrentDuplicated > 0) violations.add("le lecteur concurrent a lu " + concurrentDuplicated + " doublon(s)");
        boolean noHanging;
        try (Admin admin = Admin.create(Topics.adminProps(bootstrap))) {
            noHanging = Topics.endOffsets(admin, topic, IsolationLevel.READ_COMMITTED).equals(Topics.endOffsets(admin, topic, IsolationLevel.READ_UNCOMMITTED));
        }
        if (!noHanging) violations.add("transaction restée ouverte (LSO ≠ HW)");
        return new Outcome("producteur", committed.size(), visible.size(), lost, duplicated, abortedReads, 0, new HashSet<>(concurrent).size(),
                concurrentDuplicated, true, noHanging, true, events, Duration.ofNanos(System.nanoTime() - t0), violations);
    }

    private static String describe(FaultPlan.Rule rule, String what) {
        return what + (rule.fired() ? " (a eu lieu)" : " (n'a pas eu lieu : " + rule.seen() + " requête(s) vue(s))");
    }

    private CompletableFuture<ScriptRunner.Result> launch(Program.Build build, List<String> args, AtomicReference<Process> running) {
        return CompletableFuture.supplyAsync(() -> build.program().run(runLimit, Map.of(), running::set, args));
    }

    /** 1st: the copier's transaction coordinator; 2nd: a leader of an output partition; 3rd: the node left. */
    private int pickBounce(int index, List<Integer> done, String txId, String out) {
        Set<Integer> all = Set.of(1, 2, 3);
        try (Admin admin = Admin.create(Topics.adminProps(kafka.bootstrapServers()))) {
            if (index == 0) {
                return admin.describeTransactions(List.of(txId)).description(txId).get(10, TimeUnit.SECONDS).coordinatorId();
            }
            if (index == 1) {
                var desc = admin.describeTopics(List.of(out)).allTopicNames().get(10, TimeUnit.SECONDS).get(out);
                for (var p : desc.partitions()) {
                    if (p.leader() != null && !done.contains(p.leader().id())) return p.leader().id();
                }
            }
        } catch (Exception e) {
            // fall through: any node not bounced yet
        }
        return all.stream().filter(n -> !done.contains(n)).sorted().findFirst().orElse(1);
    }

    private Outcome verdict(String label, String bootstrap, String in, String out, String group, List<String> input, boolean ordered,
                            Reader reader, String stdout, List<String> events, String problem, long t0) throws Exception {
        List<ConsumerRecord<String, String>> committed = Topics.readAllPartitions(bootstrap, out, true);
        List<ConsumerRecord<String, String>> everything = Topics.readAllPartitions(bootstrap, out, false);
        List<String> violations = new ArrayList<>();
        if (problem != null) violations.add(problem);

        Set<String> expected = new HashSet<>(input);
        Map<String, Integer> seen = new HashMap<>();
        for (var r : committed) seen.merge(r.value(), 1, Integer::sum);
        int lost = (int) expected.stream().filter(v -> !seen.containsKey(v)).count();
        int duplicated = seen.values().stream().mapToInt(n -> n - 1).sum();
        int strangers = (int) seen.keySet().stream().filter(v -> !expected.contains(v)).count();
        if (lost > 0) violations.add(lost + " message(s) perdu(s)");
        if (duplicated > 0) violations.add(duplicated + " doublon(s)");
        if (strangers > 0) violations.add(strangers + " message(s) inconnu(s) en sortie");

        // aborted transactions, as the copier reported them; none of their records may be read_committed
        Set<String> abortedTxns = new HashSet<>();
        Matcher m = ABORTED.matcher(stdout);
        while (m.find()) abortedTxns.add(m.group(1));
        int abortedReads = (int) committed.stream().filter(r -> abortedTxns.contains(txn(r))).count();
        if (abortedReads > 0) violations.add(abortedReads + " message(s) de transactions avortées lus en read_committed");
        // atomicity: a transaction is visible whole or not at all
        Map<String, Integer> written = new HashMap<>();
        Map<String, Integer> visible = new HashMap<>();
        for (var r : everything) written.merge(txn(r), 1, Integer::sum);
        for (var r : committed) visible.merge(txn(r), 1, Integer::sum);
        int torn = (int) visible.entrySet().stream().filter(e -> e.getValue() < written.getOrDefault(e.getKey(), 0)).count();
        if (torn > 0) violations.add(torn + " transaction(s) visibles à moitié");

        List<String> concurrent = reader.values();
        Set<String> concurrentSet = new HashSet<>(concurrent);
        int concurrentDuplicated = concurrent.size() - concurrentSet.size();
        if (!concurrentSet.equals(expected)) {
            violations.add("le lecteur concurrent n'a pas vu le même ensemble (" + concurrentSet.size() + " distincts sur " + expected.size() + ")");
        }
        if (concurrentDuplicated > 0) violations.add("le lecteur concurrent a lu " + concurrentDuplicated + " doublon(s)");

        boolean offsetsAtEnd;
        boolean noHanging;
        try (Admin admin = Admin.create(Topics.adminProps(bootstrap))) {
            Map<TopicPartition, OffsetAndMetadata> offsets = admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata()
                    .get(15, TimeUnit.SECONDS);
            Map<TopicPartition, Long> inputEnd = Topics.endOffsets(admin, in, IsolationLevel.READ_UNCOMMITTED);
            offsetsAtEnd = inputEnd.entrySet().stream().allMatch(e -> offsets.get(e.getKey()) != null
                    && offsets.get(e.getKey()).offset() == e.getValue());
            if (!offsetsAtEnd) violations.add("offsets validés du groupe " + offsets + " ≠ fin de l'entrée " + inputEnd);
            Map<TopicPartition, Long> stable = Topics.endOffsets(admin, out, IsolationLevel.READ_COMMITTED);
            Map<TopicPartition, Long> high = Topics.endOffsets(admin, out, IsolationLevel.READ_UNCOMMITTED);
            noHanging = stable.equals(high);
            if (!noHanging) violations.add("transaction restée ouverte : LSO " + stable + " ≠ HW " + high);
        }
        boolean orderKept = true;
        if (ordered) {
            List<String> order = committed.stream().map(ConsumerRecord::value).toList();
            orderKept = order.equals(input);
            if (!orderKept) violations.add("l'ordre de sortie n'est pas l'ordre d'entrée");
        }
        return new Outcome(label, input.size(), committed.size(), lost, duplicated, abortedReads, torn, concurrentSet.size(),
                concurrentDuplicated, offsetsAtEnd, noHanging, orderKept, events, Duration.ofNanos(System.nanoTime() - t0), violations);
    }

    private static String txn(ConsumerRecord<String, String> r) {
        Header h = r.headers().lastHeader("txn");
        return h == null ? "?" : new String(h.value(), StandardCharsets.UTF_8);
    }

    private static String lastLine(String s) {
        String[] lines = s.strip().split("\n");
        return lines.length == 0 ? "" : lines[lines.length - 1];
    }

    /** The concurrent reader's consumer: large polls, it keeps up with the copy. */
    static Properties consumerProps(String bootstrap, boolean readCommitted) {
        Properties p = Topics.readerProps(bootstrap, readCommitted);
        p.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, "2000");
        return p;
    }

    /** The concurrent read_committed reader: reads the output from the start while the copy goes on. */
    static final class Reader extends Thread {
        private final String bootstrap;
        private final String topic;
        private final List<String> values = Collections.synchronizedList(new ArrayList<>());
        private final Set<String> distinct = ConcurrentHashMap.newKeySet();
        private final AtomicBoolean stop = new AtomicBoolean();
        private volatile String failure;

        Reader(String bootstrap, String topic) {
            super("lecteur-concurrent");
            setDaemon(true);
            this.bootstrap = bootstrap;
            this.topic = topic;
        }

        @Override
        public void run() {
            try (KafkaConsumer<String, String> c = new KafkaConsumer<>(consumerProps(bootstrap, true))) {
                List<TopicPartition> parts = c.partitionsFor(topic, Duration.ofSeconds(30)).stream()
                        .map(p -> new TopicPartition(topic, p.partition())).toList();
                c.assign(parts);
                c.seekToBeginning(parts);
                while (!stop.get()) {
                    try {
                        for (var r : c.poll(Duration.ofMillis(100))) {
                            values.add(r.value());
                            distinct.add(r.value());
                        }
                    } catch (org.apache.kafka.common.errors.RetriableException e) {
                        // a node is down: the client finds the new leader by itself
                    }
                }
            } catch (RuntimeException e) {
                failure = Errors.rootMessage(e);
            }
        }

        int count() { return distinct.size(); }

        List<String> values() {
            synchronized (values) { return List.copyOf(values); }
        }

        void awaitCount(int n, Duration timeout) throws InterruptedException {
            long deadline = System.nanoTime() + timeout.toNanos();
            while (distinct.size() < n && System.nanoTime() < deadline && isAlive()) Thread.sleep(50);
        }

        void finish() throws InterruptedException {
            stop.set(true);
            join(10_000);
            if (failure != null) throw new IllegalStateException("lecteur concurrent : " + failure);
        }
    }
}
