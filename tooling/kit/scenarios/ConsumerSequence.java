package kit.scenarios;

import kit.faults.FaultPlan;
import kit.run.ScriptRunner;
import kit.run.Topics;
import kit.semantics.Checker;
import kit.semantics.Semantic;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import java.util.function.IntFunction;
import java.util.stream.IntStream;

/**
 * Consecutive runs of one consumer on one input topic and one group: each stage starts where the previous one left the
 * group's committed offset (as the broker holds it), so that one rerun serves several checks. What a stage processed is
 * what its runs printed as processed, or, for an exactly-once consumer, what its transactions left in the output topic
 * between the output's end offsets before and after the stage. What was expected comes from the records the sequence
 * itself wrote, never from what the program says of itself.
 */
public final class ConsumerSequence {

    /**
     * One stage: its runs (the first, then any run again with more patience), the exit code its stop point calls for and
     * what a wrong one means, the group's committed offset on the input before and after it (-1: none), and the output
     * topic's end offsets before and after it (exactly-once consumers only, else 0).
     */
    public record Stage(String label, List<ScriptRunner.Result> runs, int expectedExit, String failure, long committedBefore,
                        long committedAfter, long outputFrom, long outputTo) {

        /** Where the stage's first run began: the committed offset, or the topic's start when the group has none. */
        public long start() { return Math.max(0, committedBefore); }

        public ScriptRunner.Result last() { return runs.get(runs.size() - 1); }

        /** Why the stage went wrong (its last run did not end as its stop point says), or null. */
        public String problem() {
            int code = last().exitCode();
            return code == expectedExit ? null : failure + " (code " + code + ")";
        }
    }

    private final Scenarios scenarios;
    private final Semantic semantic;
    private final Path script;
    private final String id;
    private final String topic;
    private final String group;
    /** The exactly-once consumer's output topic; null for the others. */
    private final String output;
    /** Every run's arguments: the broker, the topics, the group and its static member id, --idle-ms, and the caller's. */
    private final List<String> args;
    private final List<String> aborted = new ArrayList<>();
    /** The keys of records written with {@link #fillKeyed}; any other record's key is its value. */
    private final Map<String, String> keys = new HashMap<>();
    private int written;
    private List<Checker.ReadValue> inputLog;
    private List<Checker.ReadValue> outputLog;

    ConsumerSequence(Scenarios scenarios, Semantic semantic, Path script, List<String> extraArgs) {
        this.scenarios = scenarios;
        this.semantic = semantic;
        this.script = script;
        this.id = Scenarios.unique();
        this.topic = "tour-" + id;
        this.group = "g-" + id;
        String bootstrap = scenarios.bootstrap();
        Topics.create(bootstrap, topic);
        // --instance-id: a static member, so that the run after a crash gets its partition at once instead of waiting for
        // the group to declare the crashed one dead (the scripts' session.timeout.ms, 10 s)
        List<String> a = new ArrayList<>(List.of("-b", bootstrap, "-t", topic, "-g", group, "--instance-id", group + "-1",
                "--idle-ms", String.valueOf(Scenarios.IDLE_MS)));
        a.addAll(extraArgs);
        if (semantic == Semantic.CONSUMER_EXACTLY_ONCE) {
            output = topic + "-sortie";
            Topics.create(bootstrap, output);
            a.addAll(List.of("--output-topic", output, "--transactional-id", "tx-" + id));
        } else {
            output = null;
        }
        this.args = List.copyOf(a);
    }

    // ---- the input ------------------------------------------------------------------------------------------

    /** Appends {@code count} new records (the sequence's next values) to the input; returns their values. */
    public List<String> fill(int count) {
        List<String> values = IntStream.rangeClosed(written + 1, written + count).mapToObj(i -> id + "-" + i).toList();
        written += count;
        fillAgain(values);
        return values;
    }

    /**
     * Appends {@code count} new records whose keys repeat: the i-th of them gets the key {@code keyOf(i)} (1-based),
     * as updates of one entity share a key. Returns their values, distinct as always.
     */
    public List<String> fillKeyed(int count, IntFunction<String> keyOf) {
        List<String> values = IntStream.rangeClosed(written + 1, written + count).mapToObj(i -> id + "-" + i).toList();
        for (int i = 0; i < count; i++) keys.put(values.get(i), id + "-cle-" + keyOf.apply(i + 1));
        written += count;
        fillAgain(values);
        return values;
    }

    /** Appends these values again (with their keys), as an at-least-once producer's retries would write them. */
    public void fillAgain(List<String> values) {
        Topics.fill(scenarios.bootstrap(), topic, values, v -> keys.getOrDefault(v, v), null);
        inputLog = null;
    }

    /** Appends {@code count} records in one transaction, then aborts it: read_committed must never deliver them. */
    public List<String> fillAborted(int count) {
        List<String> values = IntStream.rangeClosed(aborted.size() + 1, aborted.size() + count).mapToObj(i -> id + "-avorte-" + i).toList();
        Topics.fillAborted(scenarios.bootstrap(), topic, values);
        aborted.addAll(values);
        inputLog = null;
        return values;
    }

    /** The values of aborted transactions written to the input. */
    public List<String> aborted() { return List.copyOf(aborted); }

    /** The input's values from {@code offset} on, as read_committed delivers them (no aborted transaction). */
    public List<String> inputFrom(long offset) {
        if (inputLog == null) inputLog = Topics.readValues(scenarios.bootstrap(), topic, true);
        return inputLog.stream().filter(v -> v.offset() >= offset).map(Checker.ReadValue::value).toList();
    }

    // ---- the stages -----------------------------------------------------------------------------------------

    /** Where a run must stop by itself: {@code --crash-after n} (a crash, exit 137) or {@code --max n} (a clean stop). */
    public static final String CRASH_AFTER = "--crash-after";
    public static final String MAX = "--max";

    /**
     * A stage that stops by itself on its {@code n}-th message ({@link #CRASH_AFTER} or {@link #MAX}). A run that ended
     * quietly short of it while the input goes further (on a loaded machine, its first fetch came after --idle-ms) is
     * run again with more patience, told to stop at what is left of the {@code n} messages, so that the stage stops
     * where it should and finds the input to get there.
     */
    public Stage stopAt(String label, String option, int n) {
        boolean crash = option.equals(CRASH_AFTER);
        return stage(label, crash ? 137 : 0, crash ? "pas de crash simulé" : "le premier lancement a échoué", () -> {
            List<ScriptRunner.Result> runs = new ArrayList<>();
            int left = n;
            for (int attempt = 0; attempt < 3; attempt++) {
                List<String> runArgs = new ArrayList<>(attempt == 0 ? args : Scenarios.patient(args, attempt));
                runArgs.addAll(List.of(option, String.valueOf(left)));
                ScriptRunner.Result run = scenarios.launch(script, runArgs);
                runs.add(run);
                left -= run.output().records().size();
                if (run.exitCode() != 0 || left <= 0 || committed() >= end()) break;
            }
            return runs;
        });
    }

    /**
     * A stage that reads to the end: until the group's committed offset reaches the input's end offset, not until a
     * silence, so that a slow machine can't turn into a loss. Another run while the last one ended normally short of the
     * end and either processed nothing or moved the committed offset (it stopped on --idle-ms); a program that processes
     * without ever committing is not run again (that is its mistake, not the machine's).
     */
    public Stage toTheEnd(String label) {
        return stage(label, 0, "la relance a échoué", () -> {
            List<ScriptRunner.Result> runs = new ArrayList<>();
            for (int attempt = 0; attempt < 3; attempt++) {
                long before = committed();
                ScriptRunner.Result run = scenarios.launch(script, attempt == 0 ? args : Scenarios.patient(args, attempt));
                runs.add(run);
                if (run.exitCode() != 0) break;
                long after = committed();
                if (after >= end()) break;
                if (!run.output().records().isEmpty() && after <= before) break;
            }
            return runs;
        });
    }

    /** Kafka's API key of OffsetCommit: a consumer's own commit, never sent by an exactly-once consumer. */
    public static final short OFFSET_COMMIT = 8;

    /**
     * A run to the input's end whose first OffsetCommit request kills it on the wire, before the broker sees the commit.
     * Its expected exit is 137 when that happened (the program committed offsets itself), 0 otherwise.
     */
    public Stage killedOnFirstOffsetCommit(String label) {
        long before = committed();
        long from = outputEnd();
        AtomicReference<Process> running = new AtomicReference<>();
        FaultPlan faults = scenarios.faults();
        faults.holdFirst(OFFSET_COMMIT, () -> ScriptRunner.killTree(running.get().toHandle()));
        ScriptRunner.Result run;
        int seen;
        try {
            run = scenarios.launch(script, running::set, args);
        } finally {
            seen = faults.watchedSeen();
            faults.unwatch();
        }
        outputLog = null;
        return new Stage(label, List.of(run), seen > 0 ? 137 : 0, "le lancement guetté a échoué", before, committed(), from, outputEnd());
    }

    /** Counts OffsetCommit requests from now on, without holding any, until {@link #offsetCommitsSeen()}. */
    public void watchOffsetCommits() {
        scenarios.faults().holdFirst(OFFSET_COMMIT, null);
    }

    /** OffsetCommit requests seen since {@link #watchOffsetCommits()}; stops counting. */
    public int offsetCommitsSeen() {
        FaultPlan faults = scenarios.faults();
        int seen = faults.watchedSeen();
        faults.unwatch();
        return seen;
    }

    private interface Runs {
        List<ScriptRunner.Result> run();
    }

    private Stage stage(String label, int expectedExit, String failure, Runs runs) {
        long before = committed();
        long from = outputEnd();
        List<ScriptRunner.Result> done = runs.run();
        outputLog = null;
        return new Stage(label, List.copyOf(done), expectedExit, failure, before, committed(), from, outputEnd());
    }

    // ---- judging --------------------------------------------------------------------------------------------

    /**
     * What these stages processed, in order: the values their runs printed, or for an exactly-once consumer the values
     * their transactions left in the output topic, read as a read_committed consumer would (what counts is what Kafka holds).
     */
    public List<String> processed(Stage... stages) {
        List<String> processed = new ArrayList<>();
        if (output == null) {
            for (Stage s : stages) s.runs().forEach(r -> processed.addAll(r.output().values()));
            return processed;
        }
        if (outputLog == null) outputLog = Topics.readValues(scenarios.bootstrap(), output, true);
        for (Checker.ReadValue v : outputLog) {
            if (Arrays.stream(stages).anyMatch(s -> v.offset() >= s.outputFrom() && v.offset() < s.outputTo())) processed.add(v.value());
        }
        return processed;
    }

    /**
     * A check's outcome: {@code expected} against what was {@code processed} (aborted input values read count as such),
     * with every run of the {@code stages} and the first of their problems.
     */
    public Scenarios.Result result(String label, List<String> expected, List<String> processed, Stage... stages) {
        return result(label, expected, processed, Arrays.stream(stages).map(Stage::problem).filter(p -> p != null).findFirst().orElse(null),
                stages);
    }

    private Scenarios.Result result(String label, List<String> expected, List<String> processed, String problem, Stage... stages) {
        Checker.Report report = Checker.checkProcessing(expected, processed, aborted);
        List<ScriptRunner.Result> runs = Arrays.stream(stages).flatMap(s -> s.runs().stream()).toList();
        return Scenarios.result(semantic, label, expected.size(), report, problem, runs, true, semantic.explanation);
    }

    /**
     * A clean stop judged with the runs after it as its rerun: what the stage processed, then what the {@code rerun}
     * stages processed of the {@code expected} values (and of aborted input values), against {@code expected}. The
     * rerun began at the committed offset the stage left: beyond what the stage processed, messages were skipped (lost);
     * short of it, they are processed twice. Its problem is the stage's, or that of the last rerun stage (the one that
     * reads to the end); the rerun stages in between may crash on purpose, after the expected values.
     */
    public Scenarios.Result stopped(String label, List<String> expected, Stage stage, Stage... rerun) {
        List<String> processed = new ArrayList<>(processed(stage));
        processed(rerun).stream().filter(v -> expected.contains(v) || aborted.contains(v)).forEach(processed::add);
        String problem = stage.problem() != null || rerun.length == 0 ? stage.problem() : rerun[rerun.length - 1].problem();
        List<Stage> stages = new ArrayList<>(List.of(stage));
        stages.addAll(List.of(rerun));
        return result(label, expected, processed, problem, stages.toArray(Stage[]::new));
    }

    /** How many of {@code values} the input holds from where {@code stage} left the group's committed offset (from the start if none). */
    public int leftAfter(Stage stage, List<String> values) {
        return (int) inputFrom(Math.max(0, stage.committedAfter())).stream().filter(values::contains).count();
    }

    /** The input's end offset (partition 0). */
    private long end() {
        return Topics.endOffset(scenarios.bootstrap(), topic);
    }

    /** The group's committed offset on the input's partition 0, once any transaction holding it is complete; -1 if none. */
    private long committed() {
        return Topics.committedOffset(scenarios.bootstrap(), group, topic);
    }

    /** The output topic's end offset: where the next stage's output begins (0 without an output topic). */
    private long outputEnd() {
        return output == null ? 0 : Topics.endOffset(scenarios.bootstrap(), output);
    }
}
