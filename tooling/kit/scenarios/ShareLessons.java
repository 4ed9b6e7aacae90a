package kit.scenarios;

import kit.faults.FaultPlan;
import kit.faults.FaultyKafka;
import kit.run.Program;
import kit.run.ScriptRunner;
import kit.run.Topics;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.protocol.ApiKeys;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

/**
 * Share groups (KIP-932) under the faults that show their guarantee: each lesson runs scripts/ShareConsumer.java as
 * its own process on the tour's broker (proxy in front), then counts what was received, delivered again, lost.
 * A queue's promise: at-least-once per record, with a bounded number of deliveries.
 */
public final class ShareLessons {

    public static final Path SCRIPT = ScriptRunner.root().resolve("scripts").resolve("ShareConsumer.java");
    private static final Duration RUN_LIMIT = Duration.ofSeconds(90);

    /** One record as a share consumer printed it: its value, which delivery it was, how the program acknowledged it. */
    public record Delivery(String value, int count, String ack) { }

    /**
     * One lesson's counts: {@code lost} are input records no run ever received; {@code effectsTwice} are records processed
     * more than once (a duplicate effect); {@code expected} what the lesson must show, {@code observed} what it did.
     */
    public record Lesson(String name, String fault, int input, int received, int redelivered, int lost, int effectsTwice,
                         String expected, String observed, boolean passed, List<Delivery> deliveries) { }

    private final FaultyKafka kafka;
    private final Program program;

    public ShareLessons(FaultyKafka kafka) {
        this.kafka = kafka;
        Program.Build build = Program.prepare(SCRIPT).join();
        if (!build.ok()) throw new IllegalStateException("scripts/ShareConsumer.java ne se construit pas : " + build.problem());
        this.program = build.program();
    }

    /** Every lesson in the order of the course's story, each reported to {@code progress} as it starts. */
    public List<Lesson> all(Consumer<String> progress) {
        List<Map.Entry<String, Supplier<Lesson>>> steps = List.of(
                Map.entry(TWO_MEMBERS, this::twoMembersOnePartition),
                Map.entry(CRASH, this::crashBeforeAcknowledging),
                Map.entry(LOST_REQUEST, () -> lostAcknowledgement(FaultPlan.Kind.LOSE_REQUEST)),
                Map.entry(LOST_RESPONSE, () -> lostAcknowledgement(FaultPlan.Kind.LOSE_RESPONSE)),
                Map.entry(POISON, this::poison),
                Map.entry(IMPLICIT, this::implicitMode),
                Map.entry(LATEST, this::newGroupLatest));
        List<Lesson> lessons = new ArrayList<>();
        for (int i = 0; i < steps.size(); i++) {
            progress.accept("[" + (i + 1) + "/" + steps.size() + "] " + steps.get(i).getKey() + "...");
            lessons.add(steps.get(i).getValue().get());
        }
        return lessons;
    }

    private static final String TWO_MEMBERS = "deux membres, une partition";
    private static final String CRASH = "crash avant l'acquittement";
    private static final String LOST_REQUEST = "requête ShareAcknowledge perdue";
    private static final String LOST_RESPONSE = "réponse ShareAcknowledge perdue";
    private static final String POISON = "messages empoisonnés";
    private static final String IMPLICIT = "mode implicite";
    private static final String LATEST = "groupe neuf en latest";

    /** Two members on a 1-partition topic both get records: a queue, not a consumer group. */
    public Lesson twoMembersOnePartition() {
        String topic = topic("file-deux");
        List<String> input = fill(topic, 20);
        Path config = tempConfig("max.poll.records=2\nshare.acquire.mode=record_limit\n");
        String group = "sg-" + topic;
        var a = CompletableFuture.supplyAsync(() -> run(topic, group, "--slow-ms", "150", "--config", config.toString()));
        var b = CompletableFuture.supplyAsync(() -> run(topic, group, "--slow-ms", "150", "--config", config.toString()));
        List<Delivery> fromA = deliveries(a.join());
        List<Delivery> fromB = deliveries(b.join());
        List<Delivery> all = new ArrayList<>(fromA);
        all.addAll(fromB);
        int lost = lost(input, all);
        boolean passed = !fromA.isEmpty() && !fromB.isEmpty() && lost == 0 && all.size() == input.size();
        return lesson(TWO_MEMBERS, "aucune", input, all, "les deux membres reçoivent, rien de perdu",
                fromA.size() + " + " + fromB.size() + " messages", passed);
    }

    /** A member killed before acknowledging: its whole batch comes back after the lock, delivery 2, to the other member. */
    public Lesson crashBeforeAcknowledging() {
        String topic = topic("file-crash");
        List<String> input = fill(topic, 8);
        String group = "sg-" + topic;
        List<Delivery> before = deliveries(run(topic, group, "--lock-ms", "2000", "--crash-after", "3"));
        List<Delivery> after = deliveries(run(topic, group, "--lock-ms", "2000"));
        List<Delivery> all = new ArrayList<>(before);
        all.addAll(after);
        boolean backAsSecond = before.stream().allMatch(d -> after.stream().anyMatch(x -> x.value().equals(d.value()) && x.count() == 2));
        boolean passed = before.size() == 3 && backAsSecond && lost(input, all) == 0;
        return lesson(CRASH, "crash au 3e message, verrou de 2 s", input, all,
                "le lot revient (livraison 2) : effets en double, aucune perte",
                before.size() + " traités avant le crash, revenus en livraison 2 : " + (backAsSecond ? "oui" : "NON"), passed);
    }

    /**
     * The first ShareAcknowledge lost on the way (the broker never applies it: the records come back) or its response
     * lost (the broker applied it: nothing comes back). The client is told the same error in both cases.
     */
    public Lesson lostAcknowledgement(FaultPlan.Kind kind) {
        String topic = topic(kind == FaultPlan.Kind.LOSE_REQUEST ? "file-ack-requete" : "file-ack-reponse");
        List<String> input = fill(topic, 4);
        kafka.faults().clear();
        kafka.faults().add(kind, ApiKeys.SHARE_ACKNOWLEDGE, 1, null, 0);
        ScriptRunner.Result r;
        try {
            r = run(topic, "sg-" + topic, "--lock-ms", "2000", "--idle-ms", "5000");
        } finally {
            kafka.faults().clear();
        }
        List<Delivery> all = deliveries(r);
        boolean told = r.stdout().contains("acquittement sans confirmation");
        int again = (int) all.stream().filter(d -> d.count() > 1).count();
        boolean request = kind == FaultPlan.Kind.LOSE_REQUEST;
        boolean passed = told && lost(input, all) == 0 && (request ? again == input.size() : again == 0);
        return lesson(request ? LOST_REQUEST : LOST_RESPONSE, kind.french + " (ShareAcknowledge)",
                input, all, request ? "acquittement jamais appliqué : tout revient" : "acquittement appliqué : rien ne revient",
                "le client : « sans confirmation » " + (told ? "oui" : "NON") + ", relivrés " + again, passed);
    }

    /**
     * One record rejected (never again), one whose processing always fails (released until the limit, then archived);
     * the group has a dead-letter topic (KIP-1191, share.version=2): the broker writes both there.
     */
    public Lesson poison() {
        String topic = topic("file-poison");
        List<String> input = fill(topic, 5);
        String deadLetters = deadLetterTopic("dlq." + topic);
        List<Delivery> all = deliveries(run(topic, "sg-" + topic, "--reject-if", input.get(4), "--fail-if", input.get(2),
                "--delivery-limit", "3", "--dead-letter-topic", deadLetters));
        List<Integer> failing = counts(all, input.get(2));
        List<Integer> rejected = counts(all, input.get(4));
        List<String> dead = deadLetters(deadLetters, 2);
        boolean passed = failing.equals(List.of(1, 2, 3)) && rejected.equals(List.of(1)) && lost(input, all) == 0
                && dead.equals(List.of(input.get(2), input.get(4)));
        return lesson(POISON, "échecs, limite de 3, lettres mortes", input, all,
                "rejeté : 1 livraison ; en échec : 3 puis archivé ; les deux dans " + deadLetters,
                "rejeté : livraisons " + rejected + " ; en échec : livraisons " + failing + " ; lettres mortes : " + dead, passed);
    }

    /** A topic that share groups may use as their dead-letter topic: the broker writes there only with this topic config. */
    private String deadLetterTopic(String name) {
        try (Admin admin = Admin.create(Topics.adminProps(kafka.bootstrapServers()))) {
            int nodes = admin.describeCluster().nodes().get(10, TimeUnit.SECONDS).size();
            admin.createTopics(List.of(new NewTopic(name, 1, (short) Math.min(3, nodes))
                    .configs(Map.of("errors.deadletterqueue.group.enable", "true")))).all().get(20, TimeUnit.SECONDS);
            return name;
        } catch (Exception e) {
            throw new IllegalStateException("création du topic de lettres mortes " + name + " impossible : " + e.getMessage(), e);
        }
    }

    /** The values the broker wrote in the dead-letter topic, once there are {@code expected} of them (it writes them apart). */
    private List<String> deadLetters(String topic, int expected) {
        Topics.awaitRecords(kafka.bootstrapServers(), topic, expected, Duration.ofSeconds(10));
        return Topics.readAll(kafka.bootstrapServers(), topic, false).stream().map(r -> r.value()).sorted().toList();
    }

    /** Implicit mode: the next poll accepts the whole batch, a failed record included: it is never delivered again. */
    public Lesson implicitMode() {
        String topic = topic("file-implicite");
        List<String> input = fill(topic, 4);
        ScriptRunner.Result r = run(topic, "sg-" + topic, "--implicit", "--fail-if", input.get(1));
        List<Delivery> all = deliveries(r);
        List<Integer> failing = counts(all, input.get(1));
        boolean passed = failing.equals(List.of(1)) && r.stdout().contains("accepté quand même") && lost(input, all) == 0;
        return lesson(IMPLICIT, "traitement en échec (mode implicite)", input, all,
                "l'échec est accepté quand même : jamais relivré",
                "message en échec : livraisons " + failing, passed);
    }

    /** Kafka's default share.auto.offset.reset=latest: a new group skips what is already there; earliest reads it. */
    public Lesson newGroupLatest() {
        String topic = topic("file-latest");
        List<String> input = fill(topic, 3);
        List<Delivery> latest = deliveries(run(topic, "sg-latest-" + topic, "--offset-reset", "latest"));
        List<Delivery> earliest = deliveries(run(topic, "sg-earliest-" + topic, "--offset-reset", "earliest"));
        boolean passed = latest.isEmpty() && earliest.size() == input.size() && lost(input, earliest) == 0;
        return lesson(LATEST, "aucune (réglage par défaut de Kafka)", input, earliest,
                "latest : 0 des 3 déjà là ; earliest : 3", "latest : " + latest.size() + " ; earliest : " + earliest.size(), passed);
    }

    // ---- helpers ------------------------------------------------------------------------------

    private Lesson lesson(String name, String fault, List<String> input, List<Delivery> all, String expected, String observed,
                          boolean passed) {
        int redelivered = (int) all.stream().filter(d -> d.count() > 1).count();
        Map<String, Long> times = all.stream().collect(Collectors.groupingBy(Delivery::value, Collectors.counting()));
        int twice = (int) times.values().stream().filter(n -> n > 1).count();
        return new Lesson(name, fault, input.size(), all.size(), redelivered, lost(input, all), twice, expected, observed, passed,
                List.copyOf(all));
    }

    private ScriptRunner.Result run(String topic, String group, String... more) {
        List<String> args = new ArrayList<>(List.of("-b", kafka.bootstrapServers(), "-t", topic, "-g", group));
        if (!List.of(more).contains("--idle-ms")) args.addAll(List.of("--idle-ms", "2500"));
        args.addAll(List.of(more));
        return program.run(RUN_LIMIT, Map.of(), p -> { }, args);
    }

    /** The record lines of a share consumer's run (those with a delivery count), read by the scripts' contract. */
    public static List<Delivery> deliveries(ScriptRunner.Result r) {
        return r.output().records().stream().filter(x -> x.ack() != null)
                .map(x -> new Delivery(x.value(), x.deliveryCount(), x.ack())).toList();
    }

    private static List<Integer> counts(List<Delivery> all, String value) {
        return all.stream().filter(d -> d.value().equals(value)).map(Delivery::count).toList();
    }

    private static int lost(List<String> input, List<Delivery> all) {
        var seen = new HashSet<String>();
        all.forEach(d -> seen.add(d.value()));
        return (int) input.stream().filter(v -> !seen.contains(v)).count();
    }

    private String topic(String prefix) {
        String name = prefix + "-" + UUID.randomUUID().toString().substring(0, 8);
        Topics.create(kafka.bootstrapServers(), name);
        return name;
    }

    private List<String> fill(String topic, int n) {
        String run = topic.substring(topic.lastIndexOf('-') + 1);
        List<String> values = IntStream.rangeClosed(1, n).mapToObj(i -> run + "-" + i).toList();
        Topics.fill(kafka.bootstrapServers(), topic, values);
        return values;
    }

    private static Path tempConfig(String text) {
        try {
            Path file = Files.createTempFile("file-partagee", ".properties");
            Files.writeString(file, text);
            file.toFile().deleteOnExit();
            return file;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
