package kit.scenarios;

import kit.broker.EmbeddedKafka;
import kit.faults.FaultPlan;
import kit.faults.FaultyKafka;
import kit.run.Program;
import kit.run.Sandbox;
import kit.run.ScriptOutput;
import kit.run.ScriptRunner;
import kit.run.Topics;
import kit.semantics.Checker;
import kit.semantics.Semantic;
import kit.semantics.Verdict;
import kit.util.Folders;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.IntStream;

/**
 * Runs one script (a teaching script, or a student's file with the same contract) as a real process under the
 * fault that separates its semantic, then counts what was lost and duplicated. Shared by the tour and the tests.
 */
public final class Scenarios {

    /**
     * One scenario's outcome. {@code problem} is non-null when the run itself went wrong (no fault fired, bad exit).
     * {@code offsetCommits}: OffsetCommit requests the consumer sent while watched (-1: not watched). {@code label} and
     * {@code claim}: the row's name and the guarantee it holds in the tour's table (the semantic's, unless a scenario
     * shows where that guarantee ends).
     */
    public record Result(Semantic semantic, String fault, int sent, Checker.Report report, Verdict verdict,
                         String explanation, String problem, List<ScriptRunner.Result> runs, int offsetCommits,
                         String label, String claim) {
        public Result withOffsetCommits(int n) {
            return new Result(semantic, fault, sent, report, verdict, explanation, problem, runs, n, label, claim);
        }

        public boolean keepsGuarantee() { return verdict.keepsGuarantee(); }

        public boolean showsWeakness() { return verdict.showsWeakness(); }

        public boolean passed() { return problem == null && verdict.passed(); }

        public String observed() { return problem != null ? problem : report.describe(); }
    }

    private static final Duration DEFAULT_RUN_LIMIT = Duration.ofSeconds(90);

    private final String bootstrap;
    private final FaultPlan faults;
    private final EmbeddedKafka cluster;

    private final Duration runLimit;
    /** Where a student's program runs; null for the kit's own scripts (run from the kit's root). */
    private final Sandbox.Cell cell;

    public Scenarios(FaultyKafka kafka) {
        this(kafka, DEFAULT_RUN_LIMIT);
    }

    /** {@code runLimit}: how long one run of a script may take before its whole process tree is killed. */
    public Scenarios(FaultyKafka kafka, Duration runLimit) {
        this(kafka.bootstrapServers(), kafka.faults(), kafka.cluster(), runLimit, null);
    }

    private Scenarios(String bootstrap, FaultPlan faults, EmbeddedKafka cluster, Duration runLimit, Sandbox.Cell cell) {
        this.bootstrap = bootstrap;
        this.faults = faults;
        this.cluster = cluster;
        this.runLimit = runLimit;
        this.cell = cell;
    }

    /**
     * The same cluster, for grading code written by others: every run in {@code cell}, and what a producer should
     * have delivered comes from the grader's own arguments, never from what the program says of itself (its RESUME
     * line): a record it reports as failed is a record lost.
     */
    public Scenarios grading(Sandbox.Cell cell) {
        return new Scenarios(bootstrap, faults, cluster, runLimit, cell);
    }

    /** True when grading: see {@link #grading}. */
    public boolean strict() { return cell != null; }

    /** The submission's folder when grading (files the grader hands the program go there), null otherwise. */
    public Path folder() { return cell == null ? null : cell.folder(); }

    public String bootstrap() { return bootstrap; }

    public FaultPlan faults() { return faults; }

    public Duration runLimit() { return runLimit; }

    public static Path script(Semantic s) { return ScriptRunner.root().resolve("scripts").resolve(s.script + ".java"); }

    /**
     * Runs {@code script} with {@code args} in its own process, killed with its children after the run limit. The
     * script is built by JBang once (see {@link Program}), then each run is a plain JVM.
     */
    public ScriptRunner.Result launch(Path script, Consumer<Process> started, List<String> args) {
        return launch(script, started, args, runLimit);
    }

    /** A launch with its own time limit (a run that must sit through an injected wait). */
    private ScriptRunner.Result launch(Path script, Consumer<Process> started, List<String> args, Duration limit) {
        Program.Build build = Program.prepare(script).join();
        if (!build.ok()) return new ScriptRunner.Result(1, "", build.problem(), false, false, build.result().elapsed());
        ScriptRunner.Result r = null;
        // the broker is up (it is the kit's own): a program that says it can't reach it timed out its probe on a loaded
        // machine; that is the machine's fault, not the program's, so it gets another try
        for (int attempt = 0; attempt < 3 && (r == null || unreachable(r)); attempt++) {
            r = cell != null ? build.program().run(cell, limit, started, args) : build.program().run(limit, Map.of(), started, args);
        }
        return r;
    }

    private static boolean unreachable(ScriptRunner.Result r) {
        return r.exitCode() == 1 && r.stderr().contains("aucun broker Kafka joignable");
    }

    public ScriptRunner.Result launch(Path script, List<String> args) {
        return launch(script, p -> { }, args);
    }

    /** The default scenario: fault on the 3rd Produce request, or crash on the 5th message of 10. */
    public Result run(Semantic s, Path script) {
        return s.producer() ? producer(s, script, s.fault, 3) : consumer(s, script, 5);
    }

    /** A producer script under a lost request or a lost response on the {@code nth} Produce request. */
    public Result producer(Semantic s, Path script, FaultPlan.Fault fault, int nth) {
        Result r = null;
        // on a loaded machine the producer's sender may batch all ten messages in fewer requests than nth: the fault
        // never fires, and nothing was tested; once more with a longer pause between sends
        for (int intervalMs : new int[] {20, 150}) {
            r = producerOnce(s, script, fault, nth, intervalMs);
            if (r.problem() == null || !r.problem().startsWith(NOT_INJECTED)) return r;
        }
        return r;
    }

    private static final String NOT_INJECTED = "panne non injectée";

    private Result producerOnce(Semantic s, Path script, FaultPlan.Fault fault, int nth, int intervalMs) {
        String id = unique();
        String topic = "tour-" + id;
        Topics.create(bootstrap, topic);
        faults.arm(fault, nth);
        ScriptRunner.Result run;
        try {
            run = launch(script, producerArgs(s, topic, id, PRODUCED, intervalMs));
        } finally {
            faults.disarm();
        }
        String problem = faults.fired() == 0 && !(fault == FaultPlan.Fault.LOSE_RESPONSE && s == Semantic.PRODUCER_AT_MOST_ONCE)
                ? NOT_INJECTED + " (" + faults.produceRequests() + " requêtes Produce)" : null;
        return checkProducer(s, fault.french, id, topic, PRODUCED, run, problem, true, s.explanation);
    }

    /**
     * The grader's producer run: one run under both faults, the 3rd Produce request lost (connection cut), then the
     * response to the 6th. Each fault cuts the connection, so they are apart in time, and what the run leaves on the
     * topic answers for both: a loss can only come from the lost request (a lost response means the batch was
     * written), a duplicate from a retry. Gives the two results, request first, that two runs gave: one JVM instead of
     * two. A fault that never fired is said on its result (a producer with acks=0 gets no response to lose).
     */
    public List<Result> producerUnderBothFaults(Semantic s, Path script) {
        List<Result> r = null;
        // 100 ms between sends: the client is over the first cut (reconnected, retried) before the second fault
        for (int intervalMs : new int[] {100, 200}) {
            r = producerUnderBothFaultsOnce(s, script, intervalMs);
            if (r.stream().noneMatch(x -> x.problem() != null && x.problem().startsWith(NOT_INJECTED))) return r;
        }
        return r;
    }

    private List<Result> producerUnderBothFaultsOnce(Semantic s, Path script, int intervalMs) {
        String id = unique();
        String topic = "tour-" + id;
        Topics.create(bootstrap, topic);
        org.apache.kafka.common.protocol.ApiKeys produce = org.apache.kafka.common.protocol.ApiKeys.PRODUCE;
        FaultPlan.Rule request = faults.add(FaultPlan.Kind.LOSE_REQUEST, produce, 3, null, 0);
        FaultPlan.Rule response = faults.add(FaultPlan.Kind.LOSE_RESPONSE, produce, 6, null, 0);
        ScriptRunner.Result run;
        try {
            run = launch(script, producerArgs(s, topic, id, PRODUCED, intervalMs));
        } finally {
            request = faults.remove(request.id());
            response = faults.remove(response.id());
        }
        String requestProblem = request.fired() ? null : NOT_INJECTED + " (" + request.seen() + " requêtes Produce)";
        // acks=0 (the proxy notes it): no response to lose, and another try would change nothing
        String responseProblem = response.fired() || s == Semantic.PRODUCER_AT_MOST_ONCE ? null
                : response.note() != null ? "aucune réponse à perdre : le producteur envoie avec acks=0, le broker ne répond pas"
                : NOT_INJECTED + " (" + response.seen() + " requêtes Produce)";
        Result lostRequest = checkProducer(s, FaultPlan.Fault.LOSE_REQUEST.french, id, topic, PRODUCED, run, requestProblem, true,
                s.explanation);
        // the same run, seen from its lost response; a run that failed keeps its own problem
        String problem = lostRequest.problem() != null && !lostRequest.problem().startsWith(NOT_INJECTED) ? lostRequest.problem()
                : responseProblem;
        Result lostResponse = result(s, FaultPlan.Fault.LOSE_RESPONSE.french, lostRequest.sent(), lostRequest.report(), problem,
                lostRequest.runs(), true, s.explanation);
        return List.of(lostRequest, lostResponse);
    }

    /**
     * A producer script while the node leading its partition dies mid-stream: with {@code restart}, it comes back a
     * second later (a broker restart); otherwise the others elect a new leader (needs 3 nodes) and it comes back at the end.
     */
    public Result nodeFailure(Semantic s, Path script, boolean restart) {
        String id = unique();
        String topic = "panne-" + id;
        Topics.create(bootstrap, topic);
        int count = 40;
        List<String> args = producerArgs(s, topic, id, count, 50);
        CompletableFuture<ScriptRunner.Result> running = CompletableFuture.supplyAsync(() -> launch(script, args));
        // strike once a quarter of the stream is in the leader's log
        if (Topics.awaitRecords(bootstrap, topic, count / 4, runLimit)) {
            int node = cluster.indexOf(Topics.leader(bootstrap, topic));
            cluster.stopNode(node);
            if (restart) {
                sleep(1000);
                cluster.restartNode(node);
            }
            ScriptRunner.Result run = running.join();
            if (!restart) cluster.restartNode(node);
            String fault = restart ? "redémarrage du broker" : "leader arrêté (3 nœuds)";
            return checkProducer(s, fault, id, topic, count, run, null, false, restart ? s.explanation : Semantic.LEADER_FAILURE.get(s));
        }
        ScriptRunner.Result run = running.join();
        return checkProducer(s, "leader arrêté", id, topic, count, run, "le script n'a rien écrit à temps", false, s.explanation);
    }

    private List<String> producerArgs(Semantic s, String topic, String id, int count, int intervalMs) {
        List<String> args = new ArrayList<>(List.of("-b", bootstrap, "-t", topic, "--count", String.valueOf(count),
                "--interval-ms", String.valueOf(intervalMs), "--run-id", id));
        if (s == Semantic.PRODUCER_EXACTLY_ONCE) args.addAll(List.of("--transactional-id", "tx-" + id));
        return args;
    }

    /** Messages a producer is asked to send in a fault scenario. */
    public static final int PRODUCED = 10;

    /**
     * Reads the topic back and counts. For the kit's scripts: what the script claims delivered (RESUME line) against
     * what the log holds. When grading: every one of the {@code count} messages the grader asked for is expected (none
     * of these runs asks for an abort), whatever the program says it failed to send.
     */
    private Result checkProducer(Semantic s, String fault, String id, String topic, int count, ScriptRunner.Result run, String problem,
                                 boolean weaknessRequired, String explanation) {
        ScriptOutput out = run.output();
        if (run.exitCode() != 0 || !out.hasSummary()) problem = "le script a échoué (code " + run.exitCode() + ")";
        List<String> expected;
        List<String> aborted;
        int sent;
        if (strict()) {
            sent = count;
            expected = IntStream.rangeClosed(1, count).mapToObj(i -> id + "-" + i).toList();
            aborted = List.of();
        } else {
            sent = out.hasSummary() ? summaryInt(out, "sent") : 0;
            Set<Long> notClaimed = new HashSet<>(summaryLongs(out, "failedSeqs"));
            notClaimed.addAll(summaryLongs(out, "abortedSeqs"));
            expected = IntStream.rangeClosed(1, sent).filter(i -> !notClaimed.contains((long) i)).mapToObj(i -> id + "-" + i).toList();
            aborted = summaryLongs(out, "abortedSeqs").stream().map(i -> id + "-" + i).toList();
        }
        boolean readCommitted = s == Semantic.PRODUCER_EXACTLY_ONCE;
        Checker.Report report = Checker.check(expected, Topics.readValues(bootstrap, topic, readCommitted), aborted);
        return result(s, fault, sent, report, problem, List.of(run), weaknessRequired, explanation);
    }

    /**
     * Where the exactly-once producer's guarantee ends: killed right after its 1st transaction's commitTransaction
     * returned, then relaunched from its start with the same --run-id and transactional.id, as a producer that does not
     * know what was committed is. read_committed then holds the 1st batch twice: the expected weakness, not a failure.
     * Then the remedy downstream: {@code dedup} (DedupConsumer, deduplicating by message id) reads that topic and must
     * have one effect per message. The row passes when nothing is lost, the batch is there twice, and the remedy holds.
     */
    public Result producerRelaunch(Path producer, Path dedup) {
        Semantic s = Semantic.PRODUCER_EXACTLY_ONCE;
        String id = unique();
        String topic = "relance-" + id;
        Topics.create(bootstrap, topic);
        List<String> args = new ArrayList<>(producerArgs(s, topic, id, PRODUCED, 0));
        args.addAll(List.of("--transaction-size", String.valueOf(RELAUNCH_BATCH)));
        List<String> crashing = new ArrayList<>(args);
        crashing.addAll(List.of("--crash-after-commit", "1"));
        ScriptRunner.Result crashed = launch(producer, crashing);
        ScriptRunner.Result relaunched = launch(producer, args);
        List<String> expected = IntStream.rangeClosed(1, PRODUCED).mapToObj(i -> id + "-" + i).toList();
        Checker.Report report = Checker.check(expected, Topics.readValues(bootstrap, topic, true), List.of());
        Path store;
        try {
            store = Files.createTempDirectory("kit-journal-").resolve("deja-traites.txt");
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        ScriptRunner.Result deduped = launch(dedup, List.of("-b", bootstrap, "-t", topic, "-g", "g-" + id, "--store", store.toString(),
                "--idle-ms", "3000"));
        Checker.Report effects = Checker.checkProcessing(expected, journal(store));
        Folders.deleteRecursively(store.getParent());
        String problem = crashed.exitCode() != 137 || !crashed.output().crashed()
                ? "le producteur n'a pas planté après son 1er commit (code " + crashed.exitCode() + ")"
                : relaunched.exitCode() != 0 ? "la relance du producteur a échoué (code " + relaunched.exitCode() + ")"
                : deduped.exitCode() != 0 ? "DedupConsumer a échoué (code " + deduped.exitCode() + ")" : null;
        Verdict verdict = new Verdict(report.lost() == 0 && report.abortedRead() == 0 && effects.clean(),
                report.duplicated() == RELAUNCH_BATCH, true);
        int twice = report.duplicated();
        String explanation = "tué juste après le commit de sa 1ʳᵉ transaction (" + RELAUNCH_BATCH + " messages), puis relancé du début "
                + "avec le même --run-id : il ne sait pas ce qui a été validé et renvoie le lot → " + twice
                + (twice > 1 ? " doublons" : " doublon") + " en read_committed. C'est attendu : l'exactly-once du producteur vaut pour une session (réessais "
                + "dédoublonnés, transactions atomiques) ; il s'arrête où s'arrête la position. Le remède : tenir la position de la "
                + "source dans la transaction (le consommateur exactly-once, un copieur consume-transform-produce), ou dédoublonner "
                + "en aval par identifiant de message : DedupConsumer sur ce topic → " + effects.read() + " effets, "
                + (effects.clean() ? "un par message" : effects.describe()) + ".";
        return new Result(s, "crash après commit + relance", PRODUCED, report, verdict, explanation, problem,
                List.of(crashed, relaunched, deduped), -1, "producteur EOS relancé", "aucune perte");
    }

    /** Messages per transaction in {@link #producerRelaunch}: the batch the relaunch writes twice. */
    static final int RELAUNCH_BATCH = 5;

    /** The path of DedupConsumer, the remedy downstream: in solutions/, as it is an exercise. */
    public static Path dedupConsumer() { return ScriptRunner.root().resolve("solutions").resolve("DedupConsumer.java"); }

    /** The line of DedupConsumer's journal that records an effect: the message's id, a tab, the record as the contract prints it. */
    private static final Pattern EFFECT = Pattern.compile("^[^\\t]*\\t\\[\\S+ p\\d+@\\d+\\] (\\S+)\\s*$");

    /** The values whose effect DedupConsumer's journal ({@code --store}) holds, one per line, in order (no journal: none). */
    public static List<String> journal(Path store) {
        try {
            if (!Files.exists(store)) return List.of();
            return Files.readAllLines(store).stream().map(EFFECT::matcher).filter(Matcher::matches).map(m -> m.group(1)).toList();
        } catch (java.io.IOException | java.io.UncheckedIOException e) {
            return List.of();
        }
    }

    /** A consumer script that crashes on the {@code crashAfter}-th of 10 messages, then runs again to the end. */
    public Result consumer(Semantic s, Path script, int crashAfter) {
        ConsumerSequence sequence = consumerSequence(s, script, List.of());
        List<String> input = sequence.fill(10);
        ConsumerSequence.Stage crash = sequence.stopAt("crash", ConsumerSequence.CRASH_AFTER, crashAfter);
        ConsumerSequence.Stage rerun = sequence.toTheEnd("relance");
        return sequence.result("crash au message " + crashAfter + " + relance", input, sequence.processed(crash, rerun), crash, rerun);
    }

    /**
     * Consecutive runs of a consumer script on a fresh input topic and group (and output topic and transactional.id for
     * the exactly-once consumer), each starting where the previous one left the group: see {@link ConsumerSequence}.
     * {@code extraArgs} go to every run.
     */
    public ConsumerSequence consumerSequence(Semantic s, Path script, List<String> extraArgs) {
        return new ConsumerSequence(this, s, script, extraArgs);
    }

    /**
     * The max.block.ms this run's program is given (--config): how long sendOffsetsToTransaction waits before its
     * TimeoutException, the abortable error. The scripts' own is 10 s; 5 s still leaves a loaded machine the time to
     * start a transaction, and the run half as long.
     */
    static final int ABORTABLE_MAX_BLOCK_MS = 5_000;

    /** The scripts' own max.block.ms, for a program that does not take the one of --config. */
    static final int SCRIPT_MAX_BLOCK_MS = 10_000;

    /**
     * An exactly-once consumer meets an abortable error: its TxnOffsetCommit requests (and the client's retries) are
     * lost for a second longer than its max.block.ms, so sendOffsetsToTransaction times out. Run once, with no rerun to
     * mend anything: it must abort, go back to the committed offsets and copy the batch again by itself. The program is
     * given max.block.ms=5000 through --config; if its output topic then holds no aborted record, the fault did not
     * bite (it kept its own max.block.ms, and the commit went through once the window closed): it is run again, on a
     * fresh topic, with the scripts' 10 s and an 11 s window, so that no program escapes the error by ignoring --config.
     */
    public Result exactlyOnceAbortable(Path script) {
        Abortable quick = exactlyOnceAbortable(script, ABORTABLE_MAX_BLOCK_MS);
        if (quick.result().problem() != null || quick.abortedOnOutput()) return quick.result();
        return exactlyOnceAbortable(script, null).result();
    }

    private record Abortable(Result result, boolean abortedOnOutput) { }

    /** One abortable-error run; {@code maxBlockMs} given through --config, or null: the program's own (10 s in the scripts). */
    private Abortable exactlyOnceAbortable(Path script, Integer maxBlockMs) {
        Semantic s = Semantic.CONSUMER_EXACTLY_ONCE;
        long window = (maxBlockMs != null ? maxBlockMs : SCRIPT_MAX_BLOCK_MS) + 1_000;
        String id = unique();
        String topic = "tour-" + id;
        String output = topic + "-sortie";
        Topics.create(bootstrap, topic);
        Topics.create(bootstrap, output);
        List<String> input = IntStream.rangeClosed(1, 10).mapToObj(i -> id + "-" + i).toList();
        Topics.fill(bootstrap, topic, input);
        List<String> args = new ArrayList<>(List.of("-b", bootstrap, "-t", topic, "-g", "g-" + id, "--idle-ms", "4000",
                "--output-topic", output, "--transactional-id", "tx-" + id));
        if (maxBlockMs != null) {
            // max.block.ms is no key the guarantee rests on: the program says nothing of it, and its summary is unchanged
            try {
                Path config = Files.writeString((folder() != null ? folder() : Files.createTempDirectory("kit-"))
                        .resolve("bloquage-" + id + ".properties"), "max.block.ms=" + maxBlockMs + "\n");
                args.addAll(List.of("--config", config.toString()));
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }
        // only this run's producer is hit (Kafka names a transactional producer « producer-<transactional.id> »), so that
        // other runs of the same program on this broker, side by side with this one, go through untouched
        String client = "producer-tx-" + id;
        FaultPlan.Rule rule = faults.add(FaultPlan.Kind.LOSE_REQUEST, org.apache.kafka.common.protocol.ApiKeys.TXN_OFFSET_COMMIT, 1,
                client, window);
        ScriptRunner.Result run;
        boolean fired;
        try {
            // the program sits through the whole window (its sendOffsetsToTransaction blocks until max.block.ms), then
            // rereads and copies the batch: the window comes on top of the time any run is given
            run = launch(script, p -> { }, args, runLimit.plusMillis(window));
        } finally {
            FaultPlan.Rule last = faults.remove(rule.id());
            fired = last != null && last.fired();
        }
        String problem = run.exitCode() != 0 ? "le programme a échoué (code " + run.exitCode() + ")"
                : !fired ? "panne non injectée (aucune requête TxnOffsetCommit du client " + client + " : le programme "
                + "change-t-il client.id ?)" : null;
        List<String> processed = Topics.readValues(bootstrap, output, true).stream().map(Checker.ReadValue::value).toList();
        // what the broker holds says whether a transaction was aborted: records read_uncommitted sees and read_committed not
        boolean aborted = Topics.readValues(bootstrap, output, false).size() > processed.size();
        Checker.Report report = Checker.checkProcessing(input, processed);
        return new Abortable(result(s, "TxnOffsetCommit perdus " + window / 1000 + " s", input.size(), report, problem, List.of(run),
                false, s.explanation), aborted);
    }

    /** A consumer's --idle-ms on its first try: short, since what decides is the committed offset, not the silence. */
    static final int IDLE_MS = 1000;

    /** The same arguments with a longer --idle-ms: 3 s, then 8 s. */
    static List<String> patient(List<String> args, int attempt) {
        List<String> out = new ArrayList<>(args);
        int i = out.indexOf("--idle-ms");
        if (i >= 0) out.set(i + 1, String.valueOf(attempt == 1 ? 3000 : 8000));
        return out;
    }

    private static int summaryInt(ScriptOutput out, String key) {
        try {
            return out.summaryInt(key);
        } catch (RuntimeException e) {
            return 0;
        }
    }

    private static List<Long> summaryLongs(ScriptOutput out, String key) {
        try {
            return out.summaryLongs(key);
        } catch (RuntimeException e) {
            return List.of();
        }
    }

    static Result result(Semantic s, String fault, int sent, Checker.Report report, String problem,
                                 List<ScriptRunner.Result> runs, boolean weaknessRequired, String explanation) {
        return new Result(s, fault, sent, report, Verdict.of(s, report, weaknessRequired), explanation, problem, runs, -1, s.french, s.claim);
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    static String unique() { return UUID.randomUUID().toString().replace("-", "").substring(0, 8); }
}
