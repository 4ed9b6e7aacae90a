package kit.scenarios;

import kit.broker.EmbeddedKafka;
import kit.faults.FaultPlan;
import kit.faults.FaultyKafka;
import kit.run.Program;
import kit.run.ScriptOutput;
import kit.run.ScriptRunner;
import kit.run.Topics;
import kit.semantics.Checker;
import kit.semantics.Semantic;
import kit.semantics.Verdict;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.stream.IntStream;

/**
 * Runs one script (a teaching script, or a student's file with the same contract) as a real process under the
 * fault that separates its semantic, then counts what was lost and duplicated. Shared by the tour and the tests.
 */
public final class Scenarios {

    /**
     * One scenario's outcome. {@code problem} is non-null when the run itself went wrong (no fault fired, bad exit).
     * {@code offsetCommits}: OffsetCommit requests the consumer sent while watched (-1: not watched).
     */
    public record Result(Semantic semantic, String fault, int sent, Checker.Report report, Verdict verdict,
                         String explanation, String problem, List<ScriptRunner.Result> runs, int offsetCommits) {
        Result withOffsetCommits(int n) {
            return new Result(semantic, fault, sent, report, verdict, explanation, problem, runs, n);
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

    public Scenarios(FaultyKafka kafka) {
        this(kafka, DEFAULT_RUN_LIMIT);
    }

    /** {@code runLimit}: how long one run of a script may take before its whole process tree is killed. */
    public Scenarios(FaultyKafka kafka, Duration runLimit) {
        this.bootstrap = kafka.bootstrapServers();
        this.faults = kafka.faults();
        this.cluster = kafka.cluster();
        this.runLimit = runLimit;
    }

    public String bootstrap() { return bootstrap; }

    public FaultPlan faults() { return faults; }

    public Duration runLimit() { return runLimit; }

    public static Path script(Semantic s) { return ScriptRunner.root().resolve("scripts").resolve(s.script + ".java"); }

    /**
     * Runs {@code script} with {@code args} in its own process, killed with its children after the run limit. The
     * script is built by JBang once (see {@link Program}), then each run is a plain JVM.
     */
    public ScriptRunner.Result launch(Path script, Consumer<Process> started, List<String> args) {
        Program.Build build = Program.prepare(script).join();
        if (!build.ok()) return new ScriptRunner.Result(1, "", build.problem(), false, false, build.result().elapsed());
        return build.program().run(runLimit, Map.of(), started, args);
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
        String id = unique();
        String topic = "tour-" + id;
        Topics.create(bootstrap, topic);
        faults.arm(fault, nth);
        ScriptRunner.Result run;
        try {
            run = launch(script, producerArgs(s, topic, id, 10, 20));
        } finally {
            faults.disarm();
        }
        String problem = faults.fired() == 0 && !(fault == FaultPlan.Fault.LOSE_RESPONSE && s == Semantic.PRODUCER_AT_MOST_ONCE)
                ? "panne non injectée (" + faults.produceRequests() + " requêtes Produce)" : null;
        return checkProducer(s, fault.french, id, topic, run, problem, true, s.explanation);
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
            return checkProducer(s, fault, id, topic, run, null, false, restart ? s.explanation : Semantic.LEADER_FAILURE.get(s));
        }
        ScriptRunner.Result run = running.join();
        return checkProducer(s, "leader arrêté", id, topic, run, "le script n'a rien écrit à temps", false, s.explanation);
    }

    private List<String> producerArgs(Semantic s, String topic, String id, int count, int intervalMs) {
        List<String> args = new ArrayList<>(List.of("-b", bootstrap, "-t", topic, "--count", String.valueOf(count),
                "--interval-ms", String.valueOf(intervalMs), "--run-id", id));
        if (s == Semantic.PRODUCER_EXACTLY_ONCE) args.addAll(List.of("--transactional-id", "tx-" + id));
        return args;
    }

    /** Reads the topic back and counts: what the script claims delivered (RESUME line) against what the log holds. */
    private Result checkProducer(Semantic s, String fault, String id, String topic, ScriptRunner.Result run, String problem,
                                 boolean weaknessRequired, String explanation) {
        ScriptOutput out = run.output();
        if (run.exitCode() != 0 || !out.hasSummary()) problem = "le script a échoué (code " + run.exitCode() + ")";
        int sent = out.hasSummary() ? out.summaryInt("sent") : 0;
        Set<Long> notClaimed = new HashSet<>(out.summaryLongs("failedSeqs"));
        notClaimed.addAll(out.summaryLongs("abortedSeqs"));
        List<String> expected = IntStream.rangeClosed(1, sent).filter(i -> !notClaimed.contains((long) i)).mapToObj(i -> id + "-" + i).toList();
        List<String> aborted = out.summaryLongs("abortedSeqs").stream().map(i -> id + "-" + i).toList();
        boolean readCommitted = s == Semantic.PRODUCER_EXACTLY_ONCE;
        Checker.Report report = Checker.check(expected, Topics.readValues(bootstrap, topic, readCommitted), aborted);
        return result(s, fault, sent, report, problem, List.of(run), weaknessRequired, explanation);
    }

    /** A consumer script that crashes on the {@code crashAfter}-th of 10 messages, then runs again without the crash. */
    public Result consumer(Semantic s, Path script, int crashAfter) {
        return consumer(s, script, new ConsumerRun("crash au message " + crashAfter + " + relance",
                List.of("--crash-after", String.valueOf(crashAfter)), 137, false, false));
    }

    /**
     * How to run a consumer the first time, before a rerun to the end: extra arguments (a crash point, {@code --max}),
     * the exit code that run must end with, whether the input also holds an aborted transaction (read_committed must
     * skip it), and whether the first OffsetCommit request kills the consumer on the wire before the broker sees it.
     */
    public record ConsumerRun(String label, List<String> firstArgs, int firstExit, boolean abortedInput, boolean killOnOffsetCommit,
                              List<String> bothArgs, boolean duplicatedInput) {
        public ConsumerRun(String label, List<String> firstArgs, int firstExit, boolean abortedInput, boolean killOnOffsetCommit) {
            this(label, firstArgs, firstExit, abortedInput, killOnOffsetCommit, List.of(), false);
        }
    }

    /** Kafka's API key of OffsetCommit: a consumer's own commit, never sent by an exactly-once consumer. */
    public static final short OFFSET_COMMIT = 8;

    /** A consumer script run once as {@code run} says, then again to the end; counts what the pair processed. */
    public Result consumer(Semantic s, Path script, ConsumerRun how) {
        String id = unique();
        String topic = "tour-" + id;
        Topics.create(bootstrap, topic);
        List<String> input = IntStream.rangeClosed(1, 10).mapToObj(i -> id + "-" + i).toList();
        List<String> aborted = how.abortedInput() ? List.of(id + "-avorte-1", id + "-avorte-2", id + "-avorte-3") : List.of();
        if (how.abortedInput()) {
            Topics.fill(bootstrap, topic, input.subList(0, 5));
            Topics.fillAborted(bootstrap, topic, aborted);
            Topics.fill(bootstrap, topic, input.subList(5, 10));
        } else {
            Topics.fill(bootstrap, topic, input);
        }
        // the same messages again, as an at-least-once producer's retries would write them
        if (how.duplicatedInput()) Topics.fill(bootstrap, topic, List.of(input.get(1), input.get(4), input.get(6)));
        List<String> args = new ArrayList<>(List.of("-b", bootstrap, "-t", topic, "-g", "g-" + id, "--idle-ms", "1000"));
        args.addAll(how.bothArgs());
        String output = topic + "-sortie";
        if (s == Semantic.CONSUMER_EXACTLY_ONCE) {
            Topics.create(bootstrap, output);
            args.addAll(List.of("--output-topic", output, "--transactional-id", "tx-" + id));
        }
        List<String> firstArgs = new ArrayList<>(args);
        firstArgs.addAll(how.firstArgs());
        AtomicReference<Process> running = new AtomicReference<>();
        if (how.killOnOffsetCommit()) faults.holdFirst(OFFSET_COMMIT, () -> ScriptRunner.killTree(running.get().toHandle()));
        ScriptRunner.Result first;
        int offsetCommits;
        try {
            first = launch(script, running::set, firstArgs);
        } finally {
            offsetCommits = faults.watchedSeen();
            faults.unwatch();
        }
        ScriptRunner.Result rerun = launch(script, args);
        int expectedExit = how.killOnOffsetCommit() && offsetCommits > 0 ? 137 : how.firstExit();
        String problem = first.exitCode() != expectedExit
                ? (expectedExit == 137 ? "pas de crash simulé" : "le premier lancement a échoué") + " (code " + first.exitCode() + ")"
                : rerun.exitCode() != 0 ? "la relance a échoué (code " + rerun.exitCode() + ")" : null;
        List<String> processed = new ArrayList<>();
        if (s == Semantic.CONSUMER_EXACTLY_ONCE) {
            // what counts is what Kafka holds: the output topic, read as a read_committed consumer would
            Topics.readValues(bootstrap, output, true).forEach(v -> processed.add(v.value()));
        } else {
            processed.addAll(first.output().values());
            processed.addAll(rerun.output().values());
        }
        Checker.Report report = Checker.checkProcessing(input, processed, aborted);
        Result r = result(s, how.label(), input.size(), report, problem, List.of(first, rerun), true, s.explanation);
        return how.killOnOffsetCommit() ? r.withOffsetCommits(offsetCommits) : r;
    }

    private static Result result(Semantic s, String fault, int sent, Checker.Report report, String problem,
                                 List<ScriptRunner.Result> runs, boolean weaknessRequired, String explanation) {
        return new Result(s, fault, sent, report, Verdict.of(s, report, weaknessRequired), explanation, problem, runs, -1);
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static String unique() { return UUID.randomUUID().toString().replace("-", "").substring(0, 8); }
}
