package kit.grade;

import kit.db.Postgres;
import kit.run.Program;
import kit.run.Sandbox;
import kit.run.ScriptOutput;
import kit.run.ScriptRunner;
import kit.run.Topics;
import kit.scenarios.ConsumerSequence;
import kit.scenarios.Scenarios;
import kit.semantics.Checker;
import kit.semantics.Semantic;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.function.Predicate;
import java.util.stream.IntStream;

/**
 * Grades one submission by behaviour: compiles it, then runs it as a real process under the faults that expose the
 * classic mistakes of its exercise, and scores each check out of 20 with a French explanation of what went wrong.
 */
public final class Grader {

    /** One check: its points, and what was observed. */
    public record Check(String name, int points, boolean passed, String feedback) { }

    /** A submission's grade: the checks, out of 20. */
    public record Grade(String student, String exercise, List<Check> checks) {
        public int score() { return checks.stream().filter(Check::passed).mapToInt(Check::points).sum(); }

        public boolean passed() { return checks.stream().allMatch(Check::passed); }

        /** The first failed check's feedback, or "". */
        public String firstProblem() {
            return checks.stream().filter(c -> !c.passed()).map(c -> c.name() + " : " + c.feedback()).findFirst().orElse("");
        }
    }

    private final Scenarios cluster;
    private final Path workDir;
    private final Sandbox sandbox;
    /** The job's PostgreSQL and its database (null without one): for {@link Exercise#needsDatabase}. */
    private final Postgres database;
    private final Postgres.Account account;
    /** This submission's scenarios: the cluster's, run in its cell (set by {@link #grade}). */
    private Scenarios scenarios;

    /**
     * {@code workDir}: where each submission gets a fresh folder of its own (its source, and the cell its runs may write
     * in); {@code sandbox}: how its runs are isolated.
     */
    public Grader(Scenarios scenarios, Path workDir, Sandbox sandbox) {
        this(scenarios, workDir, sandbox, null, null);
    }

    /** As above, with the job's own database of {@code database} ({@code account}: its role, the only one its runs get). */
    public Grader(Scenarios scenarios, Path workDir, Sandbox sandbox, Postgres database, Postgres.Account account) {
        this.cluster = scenarios;
        this.workDir = workDir;
        this.sandbox = sandbox;
        this.database = database;
        this.account = account;
    }

    /**
     * Runs that go side by side with a submission's others (the zombie's first producer, the abortable error): each on a
     * thread of its own, since they mostly wait, and the common pool may have fewer threads than jobs running.
     */
    private static final java.util.concurrent.ExecutorService SIDE_RUNS = java.util.concurrent.Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "lancement-parallele");
        t.setDaemon(true);
        return t;
    });

    /** A grade of 0 for something that could not be run at all (empty folder, unknown file…). */
    public static Grade notGradable(String student, String exercise, String why) {
        return new Grade(student, exercise, List.of(new Check("rendu", 20, false, why)));
    }

    /** What a missing file of the assignment gets: 0, and the report says so. */
    public static final String NOT_HANDED_IN = "non rendu";

    public static Grade notHandedIn(String student, Exercise exercise) {
        return notGradable(student, exercise.className, NOT_HANDED_IN + " : " + exercise.fileName() + " absent du dossier");
    }

    /** JBang directives a submission may use: its dependencies and JVM options, nothing that reads files or runs code at build. */
    static final List<String> ALLOWED_DIRECTIVES = List.of("DEPS", "JAVA", "JAVA_OPTIONS", "RUNTIME_OPTIONS", "DESCRIPTION", "PREVIEW");

    /** Why the grader won't build this source (a JBang directive that would act as the teacher), or null. */
    static String refusedDirective(String source) {
        for (String line : source.lines().map(String::strip).toList()) {
            java.util.regex.Matcher m = java.util.regex.Pattern.compile("^//([A-Z_]+)(\\s.*)?$").matcher(line);
            if (!m.matches()) continue;
            if (!ALLOWED_DIRECTIVES.contains(m.group(1))) {
                return "directive JBang refusée par le correcteur : //" + m.group(1) + " (permises : //"
                        + String.join(", //", ALLOWED_DIRECTIVES) + ")";
            }
            if (line.contains("${")) return "directive JBang refusée par le correcteur : pas de ${…} dans « " + line + " »";
        }
        return null;
    }

    /**
     * A submission made ready before its broker is free: the source checked and written to a private folder, its build
     * started. Either {@code refused} (a grade of 0: not UTF-8, a refused directive, no copy possible) or the rest is set.
     */
    public record Staged(String student, Exercise exercise, Path dir, Path file, CompletableFuture<Program.Build> build, Grade refused) {
        static Staged refused(Grade grade) {
            return new Staged(grade.student(), null, null, null, null, grade);
        }
    }

    /**
     * Checks the {@code bytes} the grader read (its snapshot, never the student's file itself), writes them to a fresh
     * folder of {@code workDir}, and starts their build: the build then runs while the submission waits for a broker.
     */
    public static Staged stage(Path workDir, String student, Exercise exercise, byte[] bytes) {
        String source;
        try {
            source = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            return Staged.refused(notGradable(student, exercise.className,
                    "le fichier n'est pas en UTF-8 : enregistrez-le en UTF-8 et rendez-le à nouveau"));
        }
        String refused = refusedDirective(source);
        if (refused != null) return Staged.refused(notGradable(student, exercise.className, refused));
        try {
            // a private folder: the source (read by the build, never by the runs) and the cell, the only place runs may write
            Path dir = Files.createDirectories(workDir.resolve(safe(student) + "-" + exercise.className + "-"
                    + UUID.randomUUID().toString().substring(0, 8)));
            Path file = Files.writeString(Files.createDirectories(dir.resolve("source")).resolve(exercise.fileName()), source);
            return new Staged(student, exercise, dir, file, Program.prepare(file), null);
        } catch (IOException | java.io.UncheckedIOException e) {
            return Staged.refused(notGradable(student, exercise.className, "copie impossible : " + e.getMessage()));
        }
    }

    /** Grades the {@code source} the grader read (its snapshot), never the student's file itself. */
    public Grade grade(String student, Exercise exercise, byte[] bytes) {
        return grade(stage(workDir, student, exercise, bytes));
    }

    /** Grades a staged submission on this grader's broker: its build awaited, then its runs under the exercise's faults. */
    public Grade grade(Staged staged) {
        if (staged.refused() != null) return staged.refused();
        String student = staged.student();
        Exercise exercise = staged.exercise();
        Path file = staged.file();
        Sandbox.Cell cell;
        try {
            // its runs reach this job's broker only (where each run has its own network namespace), and its database if it needs one
            boolean db = exercise.needsDatabase() && database != null;
            cell = sandbox.cell(staged.dir().resolve("cellule"), cluster.bootstrap(), db ? database.port() : 0);
            scenarios = cluster.grading(cell);
        } catch (java.io.UncheckedIOException e) {
            return notGradable(student, exercise.className, "copie impossible : " + e.getMessage());
        }
        Program.Build build = staged.build().join();
        if (!build.ok()) {
            return new Grade(student, exercise.className, List.of(new Check("compilation", 20, false, build.problem())));
        }
        List<Check> checks = switch (exercise) {
            case PRODUCER_AT_MOST_ONCE -> producerAtMostOnce(file);
            case PRODUCER_AT_LEAST_ONCE -> producerAtLeastOnce(file);
            case PRODUCER_EXACTLY_ONCE -> producerExactlyOnce(file);
            case CONSUMER_AT_MOST_ONCE, CONSUMER_AT_LEAST_ONCE -> consumerOnce(exercise.semantic, file);
            case CONSUMER_EXACTLY_ONCE -> consumerExactlyOnce(file);
            case ZOMBIE_FENCING -> zombieFencing(file);
            case DEDUP_CONSUMER -> dedupConsumer(file);
            case SHARE_WORKER -> shareWorker(file);
            case CONSUMER_DB_EXACTLY_ONCE -> consumerDbExactlyOnce(file);
        };
        // a run that hit one of the sandbox's limits: 0 for the exercise, with the reason
        if (cell.limit() != null) return new Grade(student, exercise.className, List.of(new Check("limites du correcteur", 20, false,
                cell.limit() + " : 0 pour cet exercice")));
        return new Grade(student, exercise.className, checks);
    }

    // ---- producers ------------------------------------------------------------------------------------

    private List<Check> producerAtMostOnce(Path file) {
        List<Scenarios.Result> faulted = scenarios.producerUnderBothFaults(Semantic.PRODUCER_AT_MOST_ONCE, file);
        Scenarios.Result request = faulted.get(0);
        Scenarios.Result response = faulted.get(1);
        return List.of(
                check("requête perdue : le message est perdu, sans réessai", 10, request, r -> r.lost() > 0 && r.duplicated() == 0,
                        r -> r.lost() == 0 ? "la requête Produce a été perdue mais aucun message ne l'est : le producteur attend "
                                + "un accusé ou réessaie. At-most-once, c'est acks=0 et retries=0 (" + r.describe() + ")"
                                : "doublon : " + r.describe()),
                check("réponse perdue : aucun doublon", 10, response, r -> r.duplicated() == 0,
                        r -> r.describe() + " : le producteur a renvoyé un lot déjà écrit ; at-most-once n'a ni accusé ni réessai "
                                + "(acks=0, retries=0)"));
    }

    private List<Check> producerAtLeastOnce(Path file) {
        List<Scenarios.Result> faulted = scenarios.producerUnderBothFaults(Semantic.PRODUCER_AT_LEAST_ONCE, file);
        Scenarios.Result request = faulted.get(0);
        Scenarios.Result response = faulted.get(1);
        return List.of(
                check("requête perdue : aucune perte", 10, request, r -> r.lost() == 0,
                        r -> failedSends(request) > 0 ? r.describe() + " ; " + failedSends(request) + " envoi(s) en échec selon le "
                                + "programme lui-même : sans réessais (retries=0), la requête perdue n'est jamais renvoyée ; "
                                + "at-least-once veut retries > 0, un message en échec est un message perdu"
                                : r.describe() + " après une requête perdue : avec acks=0 le producteur ne sait même "
                                + "pas qu'elle s'est perdue ; at-least-once veut acks=all et des réessais"),
                check("réponse perdue : doublon, mais aucune perte", 10, response, r -> r.lost() == 0 && r.duplicated() > 0,
                        r -> r.lost() > 0 ? r.describe() + " : un message acquitté doit être relu"
                                : "réponse perdue, mais aucun doublon : l'idempotence est active (enable.idempotence=true par "
                                + "défaut depuis Kafka 3.0). At-least-once la désactive : le réessai réécrit alors le lot, "
                                + "c'est le doublon que le cours annonce"));
    }

    private List<Check> producerExactlyOnce(Path file) {
        List<Scenarios.Result> faulted = scenarios.producerUnderBothFaults(Semantic.PRODUCER_EXACTLY_ONCE, file);
        Scenarios.Result request = faulted.get(0);
        Scenarios.Result response = faulted.get(1);
        List<Check> checks = new ArrayList<>(List.of(
                check("requête perdue : ni perte ni doublon", 5, request, Checker.Report::clean, Checker.Report::describe),
                check("réponse perdue : ni perte ni doublon", 5, response, Checker.Report::clean,
                        r -> r.describe() + (r.duplicated() > 0 ? " : sans idempotence, le réessai réécrit le lot" : ""))));
        checks.addAll(crashThenAbortedTransaction(file));
        return checks;
    }

    /**
     * Crash in the middle of the 2nd transaction, then a new run with the same transactional.id that aborts its own 2nd
     * transaction (--abort-every 2): one relaunch, two checks. Each is judged on its own run's values, from what
     * read_committed shows: the crashed run's 1 to 5, never its 6 and 7; the relaunch's 1 to 5, never its 6 to 10.
     */
    private List<Check> crashThenAbortedTransaction(Path file) {
        String crashName = "crash au milieu d'une transaction : rien d'elle n'est visible";
        String abortName = "transaction avortée : invisible en read_committed";
        String id = unique();
        String topic = "note-" + id;
        Topics.create(scenarios.bootstrap(), topic);
        String tx = "tx-" + id;
        ScriptRunner.Result crashed = run(file, "-b", scenarios.bootstrap(), "-t", topic, "--count", "10", "--transaction-size", "5",
                "--run-id", id + "a", "--transactional-id", tx, "--crash-after", "7");
        ScriptRunner.Result rerun = run(file, "-b", scenarios.bootstrap(), "-t", topic, "--count", "10", "--transaction-size", "5",
                "--abort-every", "2", "--run-id", id + "b", "--transactional-id", tx);
        List<Checker.ReadValue> read = Topics.readValues(scenarios.bootstrap(), topic, true);
        Check crash;
        if (crashed.exitCode() != 137) {
            crash = new Check(crashName, 5, false, "pas de crash simulé au message 7 : " + runProblem(crashed));
        } else if (rerun.exitCode() != 0) {
            crash = new Check(crashName, 5, false, "la relance avec le même transactional.id a échoué : " + runProblem(rerun));
        } else {
            Checker.Report r = Checker.check(values(id + "a", 1, 5), ofRun(read, id + "a"), values(id + "a", 6, 7));
            crash = new Check(crashName, 5, r.clean(), r.clean() ? r.describe() : r.describe()
                    + (r.abortedRead() > 0 ? " : la transaction interrompue est visible en read_committed ; la relance doit appeler "
                    + "initTransactions(), qui avorte la transaction laissée ouverte" : ""));
        }
        Check abort;
        if (rerun.exitCode() != 0 || !rerun.output().hasSummary()) {
            abort = new Check(abortName, 5, false, runProblem(rerun));
        } else {
            Checker.Report r = Checker.check(values(id + "b", 1, 5), ofRun(read, id + "b"), values(id + "b", 6, 10));
            abort = new Check(abortName, 5, r.clean(), r.clean() ? r.describe() : r.describe()
                    + (r.abortedRead() > 0 ? " : le lot à avorter a été validé ; sur erreur (ou --abort-every), c'est "
                    + "abortTransaction(), jamais commitTransaction()" : ""));
        }
        return List.of(crash, abort);
    }

    /** What was read of one run's values (its --run-id). */
    private static List<Checker.ReadValue> ofRun(List<Checker.ReadValue> read, String runId) {
        return read.stream().filter(v -> v.value().startsWith(runId + "-")).toList();
    }

    // ---- consumers ------------------------------------------------------------------------------------

    /**
     * One sequence of runs on one topic: a clean stop after 4 messages (--max 4); a run that starts where the stop left
     * the group's committed offset and crashes on the 4th of ten records added behind; a run to the end. The clean stop is
     * judged on its first ten records, from what it processed and what the two runs after it (its rerun) processed of
     * them; the crash on everything from where the crashed run began.
     */
    private List<Check> consumerOnce(Semantic s, Path file) {
        boolean atMostOnce = s == Semantic.CONSUMER_AT_MOST_ONCE;
        ConsumerSequence sequence = scenarios.consumerSequence(s, file, List.of());
        List<String> first = sequence.fill(10);
        ConsumerSequence.Stage stopped = gracefulStop(sequence);
        ConsumerSequence.Stage crashed = crashBehind(sequence, stopped, first);
        ConsumerSequence.Stage end = sequence.toTheEnd(TO_THE_END);
        Scenarios.Result crash = sequence.result(CRASH_THEN_RERUN, sequence.inputFrom(crashed.start()), sequence.processed(crashed, end),
                crashed, end);
        Check crashCheck = atMostOnce
                ? check("crash entre commit et traitement : perte, aucun doublon", 10, crash, r -> r.lost() > 0 && r.duplicated() == 0,
                        r -> r.duplicated() > 0 ? r.describe() + " après un crash : l'offset est validé après le traitement ; "
                                + "at-most-once valide AVANT de traiter"
                                : "aucune perte après le crash : le message en cours aurait dû être sauté (commit, puis traitement)")
                : check("crash entre traitement et commit : doublon, aucune perte", 10, crash, r -> r.lost() == 0 && r.duplicated() > 0,
                        r -> r.lost() > 0 ? r.describe() + " après un crash : l'offset est validé avant le traitement"
                                : "aucun doublon après le crash : le message traité mais pas encore validé aurait dû être relu. "
                                + "L'offset a-t-il été validé avant le traitement ? (c'est de l'at-most-once)");
        return List.of(crashCheck, gracefulCheck(sequence.stopped(GRACEFUL, first, stopped, crashed, end), 10));
    }

    /**
     * One sequence of runs on one topic whose input holds an aborted transaction, as for {@link #consumerOnce}: a clean
     * stop (--max 4), a crash inside a transaction of the next run (after the clean stop's records), a run to the end,
     * OffsetCommit requests counted on the wire all along. A consumer that sent one gets one more stage: new input, a run
     * killed on its first OffsetCommit (before the broker sees it), and a run to the end, to show what that commit
     * outside the transaction leaves. The abortable error has its own run.
     */
    private List<Check> consumerExactlyOnce(Path file) {
        Semantic s = Semantic.CONSUMER_EXACTLY_ONCE;
        // the abortable error is a run of its own, on its own topics, with a fault aimed at its own producer: it runs side
        // by side with the sequence (this exercise is the longest of a student's set, and a student's whole set waits for it)
        CompletableFuture<Scenarios.Result> abortableRun = CompletableFuture.supplyAsync(() -> scenarios.exactlyOnceAbortable(file), SIDE_RUNS);
        ConsumerSequence sequence = scenarios.consumerSequence(s, file, List.of());
        List<String> first = new ArrayList<>(sequence.fill(5));
        sequence.fillAborted(3);
        first.addAll(sequence.fill(5));
        ConsumerSequence.Stage stopped;
        ConsumerSequence.Stage crashed;
        ConsumerSequence.Stage end;
        int offsetCommits;
        sequence.watchOffsetCommits();
        try {
            stopped = gracefulStop(sequence);
            crashed = crashBehind(sequence, stopped, first);
            end = sequence.toTheEnd(TO_THE_END);
        } finally {
            offsetCommits = sequence.offsetCommitsSeen();
        }
        Scenarios.Result stop = sequence.stopped(GRACEFUL, first, stopped, crashed, end);
        Scenarios.Result crash = sequence.result(CRASH_THEN_RERUN, sequence.inputFrom(crashed.start()), sequence.processed(crashed, end),
                crashed, end);
        List<ConsumerSequence.Stage> stages = new ArrayList<>(List.of(stopped, crashed, end));
        Scenarios.Result wire;
        boolean killedOnWire = false;
        if (offsetCommits > 0) {
            sequence.fill(5);
            ConsumerSequence.Stage killed = sequence.killedOnFirstOffsetCommit("OffsetCommit guetté sur le réseau");
            ConsumerSequence.Stage after = sequence.toTheEnd(TO_THE_END);
            killedOnWire = killed.expectedExit() == 137;
            wire = sequence.result("OffsetCommit guetté sur le réseau + relance", sequence.inputFrom(killed.start()),
                    sequence.processed(killed, after), killed, after).withOffsetCommits(offsetCommits);
            stages.addAll(List.of(killed, after));
        } else {
            // no commit of its own: judged as a plain run to the end, the one after the crash, from where it began
            wire = sequence.result("relance jusqu'à la fin", sequence.inputFrom(end.start()), sequence.processed(end), end)
                    .withOffsetCommits(0);
        }
        Scenarios.Result abortable = abortableRun.join();
        int abortedRead = Checker.checkProcessing(List.of(), sequence.processed(stages.toArray(ConsumerSequence.Stage[]::new)),
                sequence.aborted()).abortedRead();
        boolean ran = stopped.problem() == null && crashed.problem() == null && end.problem() == null;
        String killedText = killedOnWire ? "Tué juste avant ce commit, il a laissé " + wire.report().describe() + ". " : "";
        return List.of(
                check("erreur avortable (TxnOffsetCommit perdus) : avorter, relire le lot, le copier", 4, abortable,
                        r -> r.lost() == 0 && r.duplicated() == 0, r -> r.describe() + (r.lost() > 0
                                ? " en un seul lancement : après abortTransaction(), il faut revenir aux derniers offsets validés "
                                + "(rewindToCommitted) ; sinon le consommateur continue après le lot avorté, qui n'est jamais recopié" : "")),
                check("crash au milieu de la transaction : sortie sans perte ni doublon", 4, crash,
                        r -> r.lost() == 0 && r.duplicated() == 0, r -> r.describe()
                                + (r.lost() > 0 ? " : les offsets ont été validés sans la sortie (hors de la transaction ?)" : "")),
                gracefulCheck(stop, 4),
                new Check("transactions avortées en entrée : ignorées", 4, ran && abortedRead == 0, !ran ? "pas noté : le programme a échoué"
                        : abortedRead == 0 ? "aucun message avorté traité"
                        : abortedRead + " message(s) de transactions avortées traité(s) : il faut isolation.level=read_committed"),
                wire.offsetCommits() > 0
                        ? new Check("offsets dans la transaction", 4, false, "le consommateur valide lui-même ses offsets "
                        + "(requête OffsetCommit vue sur le réseau) : ils sont hors de la transaction. " + killedText
                        + "Il faut sendOffsetsToTransaction(), avant commitTransaction()")
                        : check("offsets dans la transaction", 4, wire, Checker.Report::clean, Checker.Report::describe));
    }

    private static final String GRACEFUL = "arrêt propre après 4 messages";
    private static final String CRASH_THEN_RERUN = "crash + relance";
    private static final String TO_THE_END = "relance jusqu'à la fin";

    /** Stops after 4 messages (a clean close, as Ctrl-C would): nothing may be lost or processed twice. */
    private static ConsumerSequence.Stage gracefulStop(ConsumerSequence sequence) {
        return sequence.stopAt(GRACEFUL, ConsumerSequence.MAX, 4);
    }

    /**
     * After the clean stop: ten new records, then a run that is the clean stop's rerun, and crashes on the 4th of the new
     * records (what the clean stop left of the {@code first} ones, plus 4), so that the crash's own loss or duplicate
     * falls after the values the clean stop is judged on, wherever it left the group.
     */
    private static ConsumerSequence.Stage crashBehind(ConsumerSequence sequence, ConsumerSequence.Stage stopped, List<String> first) {
        int crashAt = sequence.leftAfter(stopped, first) + 4;
        sequence.fill(10);
        return sequence.stopAt("crash au message " + crashAt, ConsumerSequence.CRASH_AFTER, crashAt);
    }

    private static Check gracefulCheck(Scenarios.Result stop, int points) {
        return check("arrêt propre (--max 4) puis relance : ni perte ni doublon", points, stop, Checker.Report::clean,
                r -> r.describe() + (r.lost() > 0 ? " : l'auto-commit (enable.auto.commit=true) a validé à la fermeture des "
                        + "offsets lus mais jamais traités ; mettez-le à false et validez vous-même" : ""));
    }

    // ---- advanced ---------------------------------------------------------------------------------------

    /** A starts a long transactional run; B takes the same transactional.id midway: A must notice it is a zombie and stop. */
    private List<Check> zombieFencing(Path file) {
        List<Check> checks = zombieFencingOnce(file);
        // a zombie that sent everything before the second producer even started was never put to the test (a loaded
        // machine starts a JVM slowly): once more, before calling it a mistake
        if (!checks.get(0).passed() && checks.get(0).feedback().startsWith(NEVER_FENCED)) checks = zombieFencingOnce(file);
        return checks;
    }

    private static final String NEVER_FENCED = "le zombie ne dit pas qu'il a été écarté";

    private List<Check> zombieFencingOnce(Path file) {
        String id = unique();
        String topic = "note-" + id;
        String bootstrap = scenarios.bootstrap();
        Topics.create(bootstrap, topic);
        String tx = "tx-" + id;
        // long enough for the second producer's JVM to start on a loaded machine: three quarters of the run limit
        int count = (int) Math.max(60, scenarios.runLimit().toMillis() * 3 / 4 / 100);
        List<String> zombieArgs = List.of("-b", bootstrap, "-t", topic, "--count", String.valueOf(count), "--interval-ms", "100",
                "--transaction-size", "2", "--run-id", id + "a", "--transactional-id", tx);
        CompletableFuture<ScriptRunner.Result> zombie = CompletableFuture.supplyAsync(() -> scenarios.launch(file, zombieArgs), SIDE_RUNS);
        String stops = "le zombie s'arrête sur ProducerFencedException";
        String visible = "read_committed : tout ce qui a été validé, une seule fois";
        if (!Topics.awaitRecords(bootstrap, topic, 6, scenarios.runLimit())) {
            ScriptRunner.Result a = zombie.join();
            return List.of(new Check(stops, 10, false, "le premier producteur n'a rien écrit : " + runProblem(a)),
                    new Check(visible, 10, false, "pas noté"));
        }
        ScriptRunner.Result b = run(file, "-b", bootstrap, "-t", topic, "--count", "4", "--transaction-size", "2",
                "--run-id", id + "b", "--transactional-id", tx);
        ScriptRunner.Result a = zombie.join();
        ScriptOutput za = a.output();
        Check stopCheck;
        if (a.timedOut()) {
            stopCheck = new Check(stops, 10, false, "le zombie ne s'arrête pas : " + runProblem(a));
        } else if (a.exitCode() != 0) {
            stopCheck = new Check(stops, 10, false, "le zombie a planté (" + runProblem(a) + ") au lieu de s'arrêter proprement : "
                    + "ProducerFencedException (ou InvalidProducerEpochException, selon la requête qui l'apprend) dit qu'une autre "
                    + "instance a repris le transactional.id ; on le dit, puis on ferme le producteur, sans abortTransaction()");
        } else if (!"true".equals(za.summary().get("fenced"))) {
            stopCheck = new Check(stops, 10, false, NEVER_FENCED + " (RESUME … fenced=true) : "
                    + "a-t-il vraiment vu ProducerFencedException ? envoyés " + za.summary().getOrDefault("sent", "?") + " sur " + count);
        } else {
            stopCheck = new Check(stops, 10, true, "écarté après " + za.summary().get("acked") + " messages validés");
        }
        Check visibleCheck;
        if (b.exitCode() != 0 || !za.hasSummary()) {
            visibleCheck = new Check(visible, 10, false, b.exitCode() != 0 ? "le second producteur a échoué : " + runProblem(b)
                    : "pas de résumé du zombie : " + runProblem(a));
        } else {
            // what the broker holds decides, not what the zombie says: its transactions (2 messages each) are committed in
            // order until it is fenced, so what read_committed shows of it must be whole transactions 1..m, nothing missing
            List<Checker.ReadValue> committed = Topics.readValues(bootstrap, topic, true);
            int m = committed.stream().map(Checker.ReadValue::value).filter(v -> v.startsWith(id + "a-"))
                    .mapToInt(v -> parseSeq(v.substring((id + "a-").length()))).max().orElse(0);
            int whole = (m + 1) / 2 * 2;
            List<String> expected = new ArrayList<>(values(id + "a", 1, whole));
            expected.addAll(values(id + "b", 1, 4));
            List<String> neverVisible = List.of();
            Checker.Report r = Checker.check(expected, committed, neverVisible);
            visibleCheck = new Check(visible, 10, r.clean(), r.describe() + (m % 2 == 1 ? " : une transaction n'est visible "
                    + "qu'en partie" : ""));
        }
        return List.of(stopCheck, visibleCheck);
    }

    /**
     * One sequence on one topic, one journal of effects (--store): ten messages, the last six sharing two keys (updates
     * of one entity: distinct messages, each must have its effect), then three of them again (duplicates in the input,
     * as a producer's retries would write them), a crash on the 4th, right after its effect, before its commit, then a
     * run to the end. An effect is a line of the journal, as the program wrote it before the crash: what it printed
     * says nothing of what survived. The duplicates come after the crash point, so that they are met in the run after
     * the crash: a set kept in memory only still handles them, and only the crash shows it is not enough. Each check
     * counts its own messages: the first four (the crash), the last six (keys, duplicates).
     */
    private List<Check> dedupConsumer(Path file) {
        Semantic s = Semantic.CONSUMER_AT_LEAST_ONCE;
        Path store = scenarios.folder().resolve("deja-traites-" + unique() + ".txt");
        ConsumerSequence sequence = scenarios.consumerSequence(s, file, List.of("--store", store.toString()));
        List<String> input = sequence.fillKeyed(10, i -> i <= 4 ? "seule-" + i : "compte-" + i % 2);
        List<String> again = List.of(input.get(5), input.get(7), input.get(8));
        sequence.fillAgain(again);
        ConsumerSequence.Stage crashed = sequence.stopAt("crash après l'effet, avant le commit", ConsumerSequence.CRASH_AFTER, 4);
        ConsumerSequence.Stage end = sequence.toTheEnd(TO_THE_END);
        List<String> effects = Scenarios.journal(store);
        List<String> first = input.subList(0, 4);
        List<String> last = input.subList(4, input.size());
        Scenarios.Result keys = sequence.result("clés partagées, doublons en entrée", last, effects.stream().filter(last::contains).toList(), end);
        Scenarios.Result crash = sequence.result("crash après l'effet, avant le commit", first,
                effects.stream().filter(first::contains).toList(), crashed, end);
        String none = effects.isEmpty() ? " : le journal --store n'a aucune ligne « identifiant, tabulation, [topic pP@O] valeur » ; l'effet du "
                + "traitement est cette ligne (docs/CONTRAT.md)" : "";
        return List.of(
                check("clés partagées, doublons en entrée : un effet par message", 10, keys, Checker.Report::clean,
                        r -> r.describe() + (!none.isEmpty() ? none : r.lost() > 0 ? " : des messages distincts partagent une clé "
                                + "(mises à jour d'un même compte) ; dédoublonnez par identifiant de message (la valeur, <runId>-<seq>), "
                                + "pas par clé de partitionnement" : r.duplicated() > 0 ? " : le message déjà traité doit être reconnu "
                                + "(son identifiant est dans le journal) et sauté" : "")),
                check("crash après l'effet, avant le commit : un effet par message", 10, crash, Checker.Report::clean,
                        r -> r.describe() + (!none.isEmpty() ? none : r.duplicated() > 0 ? " : le message relu après le crash a eu un "
                                + "second effet ; l'identifiant doit être écrit avec l'effet, dans la même ligne du journal, et relu "
                                + "au démarrage (pas seulement gardé en mémoire)" : r.lost() > 0 ? " : l'effet du message n'est pas "
                                + "dans le journal ; la marque écrite avant l'effet, ou l'offset validé avant, le font sauter à la relance" : "")));
    }

    // ---- share groups (KIP-932) ---------------------------------------------------------------------------

    /**
     * A share group's worker, two runs on one 1-partition topic of 8 records, its group set by the grader (earliest,
     * lock of 1 s, the embedded broker's floor): a run that crashes while processing its 2nd record, then a run to the end
     * where the first try of the 3rd record fails (--flaky: released, it comes back after later offsets) and the 6th
     * always fails (--poison). A record is processed when a line of either run says ACCEPT for it (docs/CONTRAT.md).
     */
    private List<Check> shareWorker(Path file) {
        String id = unique();
        String topic = "note-" + id;
        String group = "sg-" + id;
        String bootstrap = scenarios.bootstrap();
        Topics.create(bootstrap, topic, 1);
        List<String> input = values(id, 1, 8);
        Topics.fill(bootstrap, topic, input);
        String crashName = "crash pendant un traitement, puis relance : aucun message perdu";
        String poisonName = "message empoisonné : rejeté (REJECT) dès son échec";
        String orderName = "échec passager : rendu, revenu après des messages plus récents, puis traité";
        try (org.apache.kafka.clients.admin.Admin admin = org.apache.kafka.clients.admin.Admin.create(Topics.adminProps(bootstrap))) {
            var resource = new org.apache.kafka.common.config.ConfigResource(org.apache.kafka.common.config.ConfigResource.Type.GROUP, group);
            var ops = java.util.Map.of("share.auto.offset.reset", "earliest", "share.record.lock.duration.ms", "1000").entrySet().stream()
                    .map(e -> new org.apache.kafka.clients.admin.AlterConfigOp(new org.apache.kafka.clients.admin.ConfigEntry(e.getKey(), e.getValue()),
                            org.apache.kafka.clients.admin.AlterConfigOp.OpType.SET)).toList();
            admin.incrementalAlterConfigs(java.util.Map.of(resource, ops)).all().get(30, java.util.concurrent.TimeUnit.SECONDS);
        } catch (Exception e) {
            String why = "le correcteur n'a pas pu régler le groupe de partage : " + e;
            return List.of(new Check(crashName, 8, false, why), new Check(poisonName, 6, false, why), new Check(orderName, 6, false, why));
        }
        String flaky = input.get(2);
        String poison = input.get(5);
        List<String> args = List.of("-b", bootstrap, "-t", topic, "-g", group, "--flaky", flaky, "--poison", poison, "--idle-ms", "1500");
        List<String> crashArgs = new ArrayList<>(args);
        crashArgs.addAll(List.of("--crash-after", "2"));
        ScriptRunner.Result crashed = scenarios.launch(file, crashArgs);
        ScriptRunner.Result rest = scenarios.launch(file, args);
        if (crashed.exitCode() != 137 || !crashed.output().crashed()) {
            String why = "pas de crash simulé pendant le 2e traitement (--crash-after 2) : " + runProblem(crashed);
            return List.of(new Check(crashName, 8, false, why), new Check(poisonName, 6, false, "pas noté"), new Check(orderName, 6, false, "pas noté"));
        }
        if (rest.exitCode() != 0 || !rest.output().hasSummary()) {
            String why = "la relance a échoué : " + runProblem(rest) + acknowledgeHint(rest.stderr());
            return List.of(new Check(crashName, 8, false, why), new Check(poisonName, 6, false, why), new Check(orderName, 6, false, why));
        }
        List<ScriptOutput.Record> lines = new ArrayList<>(crashed.output().records());
        lines.addAll(rest.output().records());
        Set<String> processed = new HashSet<>();
        lines.stream().filter(l -> "ACCEPT".equals(l.ack())).forEach(l -> processed.add(l.value()));

        List<String> lost = input.stream().filter(v -> !v.equals(flaky) && !v.equals(poison) && !processed.contains(v)).toList();
        String crashedOn = input.get(1);
        Check crash = new Check(crashName, 8, lost.isEmpty(), lost.isEmpty() ? "les 6 messages sans échec traités, dont celui du crash"
                : lost.size() + " message(s) jamais traité(s) : " + String.join(", ", lost) + (lost.contains(crashedOn)
                ? " ; celui dont le traitement a planté était déjà acquitté (ACCEPT parti au broker avant le traitement) : il ne "
                + "revient jamais. Acquittez APRÈS le traitement" : " ; chaque message reçu doit être traité, puis acquitté"));

        List<ScriptOutput.Record> poisonLines = rest.output().records().stream().filter(l -> l.value().equals(poison)).toList();
        List<String> poisonAcks = poisonLines.stream().map(l -> "livraison " + l.deliveryCount() + " " + l.ack()).toList();
        boolean rejectedOnce = poisonLines.size() == 1 && "REJECT".equals(poisonLines.get(0).ack());
        Check poisonCheck = new Check(poisonName, 6, rejectedOnce, rejectedOnce ? "rejeté à sa première tentative"
                : poisonLines.isEmpty() ? "le message empoisonné n'a jamais été vu par la relance (sa ligne manque)"
                : poisonLines.size() > 1 ? "le message empoisonné est revenu " + poisonLines.size() + " fois (" + String.join(", ", poisonAcks)
                + ") : rendu à chaque échec, il revient jusqu'à la limite de livraisons (share.delivery.count.limit, 5 par défaut), "
                + "puis il est archivé ; rejetez-le (REJECT) dès qu'il échoue"
                : "le message empoisonné a été acquitté " + poisonLines.get(0).ack() + " : son traitement a échoué, c'est REJECT");

        List<ScriptOutput.Record> flakyLines = rest.output().records().stream().filter(l -> l.value().equals(flaky)).toList();
        boolean retried = flakyLines.size() == 2 && "RELEASE".equals(flakyLines.get(0).ack()) && "ACCEPT".equals(flakyLines.get(1).ack());
        List<String> flakyAcks = flakyLines.stream().map(l -> "livraison " + l.deliveryCount() + " " + l.ack()).toList();
        Check order = new Check(orderName, 6, retried, retried ? "rendu, puis traité à sa livraison " + flakyLines.get(1).deliveryCount()
                : flakyLines.size() == 1 && "RELEASE".equals(flakyLines.get(0).ack())
                ? "le message rendu (RELEASE) est revenu après des offsets plus grands et n'a pas été traité : un groupe de partage "
                + "ne garantit aucun ordre ; ne sautez jamais un message dont l'offset est plus petit que le dernier vu"
                : "échec passager : " + (flakyAcks.isEmpty() ? "aucune ligne" : String.join(", ", flakyAcks))
                + " ; attendu : RELEASE à l'échec, puis ACCEPT quand il revient");
        return List.of(crash, poisonCheck, order);
    }

    /** What KafkaShareConsumer's IllegalStateException means for the program (kafka-clients 4.4.0's messages). */
    private static String acknowledgeHint(String stderr) {
        if (stderr.contains("All records must be acknowledged in explicit acknowledgement mode"))
            return " : en mode explicite, chaque message reçu doit être acquitté (acknowledge) avant le poll suivant";
        if (stderr.contains("The record cannot be acknowledged"))
            return " : un message ne s'acquitte qu'une fois ; acquitté (ACCEPT) avant son traitement, il ne peut plus être rendu "
                    + "ni rejeté quand le traitement échoue. Acquittez APRÈS le traitement, selon son issue";
        return "";
    }

    // ---- into a database ----------------------------------------------------------------------------------

    /**
     * The job's database emptied, 10 records, a run crashed on the 5th between its SQL COMMIT and its Kafka commit
     * (--crash-point after-db-commit), then a run to the end. After the crash, the database must hold the next offset
     * of what it holds (the offsets were in the rows' transaction); after the rerun, each record must be one row: the
     * rerun started from the database's offset (seek on assignment), not from Kafka's, which the crash left behind.
     */
    private List<Check> consumerDbExactlyOnce(Path file) {
        String inTransaction = "crash entre le COMMIT SQL et le commit Kafka : offsets dans la transaction SQL";
        String seek = "relance après le crash : seek à l'assignation, ni perte ni doublon";
        if (database == null) {
            return List.of(new Check(inTransaction, 10, false, "pas de PostgreSQL pour cet exercice : il n'a pas démarré (voir la sortie du correcteur), 0 sans faute de votre part"),
                    new Check(seek, 10, false, "pas noté"));
        }
        database.reset(account);
        String id = unique();
        String topic = "note-" + id;
        String group = "g-" + id;
        Topics.create(scenarios.bootstrap(), topic);
        List<String> input = values(id, 1, 10);
        Topics.fill(scenarios.bootstrap(), topic, input);
        List<String> args = new ArrayList<>(List.of("-b", scenarios.bootstrap(), "-t", topic, "-g", group, "--instance-id", group + "-1",
                "--idle-ms", "2000"));
        args.addAll(account.args());
        List<String> crash = new ArrayList<>(args);
        crash.addAll(List.of("--crash-after", "5", "--crash-point", "after-db-commit"));
        ScriptRunner.Result crashed = scenarios.launch(file, crash);
        int rowsAtCrash = Postgres.rows(account, topic).size();
        Long stored = storedOffset(group, topic);
        ScriptRunner.Result rerun = crashed.exitCode() == 137 ? scenarios.launch(file, args) : null;
        Check first;
        if (crashed.exitCode() != 137) {
            first = new Check(inTransaction, 10, false, "pas de crash simulé au message 5 (--crash-point after-db-commit) : " + runProblem(crashed));
        } else if (stored == null && rowsAtCrash == 0) {
            first = new Check(inTransaction, 10, false, "après le crash, la base n'a ni ligne ni offset : la transaction SQL n'est jamais "
                    + "validée ; après les lignes et les offsets (storeOffsets), db.commit()");
        } else if (stored == null) {
            first = new Check(inTransaction, 10, false, "offset commité dans Kafka après l'insert : après le crash, la base a " + rowsAtCrash
                    + " ligne(s) mais aucun offset dans kafka_offsets pour ce groupe ; l'offset suivant de chaque partition doit être "
                    + "écrit (storeOffsets) dans la MÊME transaction SQL que les lignes, avant db.commit()");
        } else if (stored != rowsAtCrash) {
            first = new Check(inTransaction, 10, false, "après le crash, la base a " + rowsAtCrash + " ligne(s) mais retient l'offset "
                    + stored + " : lignes et offsets ne sont pas validés ensemble (une seule transaction SQL, un seul db.commit())");
        } else {
            first = new Check(inTransaction, 10, true, rowsAtCrash + " ligne(s) et l'offset suivant " + stored + " validés ensemble");
        }
        Check second;
        if (rerun == null) {
            second = new Check(seek, 10, false, "pas noté : pas de crash");
        } else if (rerun.exitCode() != 0) {
            second = new Check(seek, 10, false, "la relance a échoué : " + runProblem(rerun));
        } else {
            Checker.Report r = Checker.checkProcessing(input, Postgres.rows(account, topic));
            second = new Check(seek, 10, r.clean(), r.clean() ? r.describe() : r.describe() + (r.duplicated() > 0
                    ? (stored == null ? " : la base n'ayant pas d'offset, la relance a relu ce qu'elle avait déjà écrit"
                    : " : pas de seek à l'assignation ; la relance est repartie de l'offset validé dans Kafka (en retard : le crash a "
                    + "frappé avant son commit) ; dans onPartitionsAssigned, seek sur l'offset que la base a retenu (seekToStoredOffsets)")
                    : r.lost() > 0 ? " : des messages lus n'ont jamais été écrits (db.commit() manquant ?)" : ""));
        }
        return List.of(first, second);
    }

    /** The next offset the job's database holds for this group and topic (partition 0), or null (none, or no table). */
    private Long storedOffset(String group, String topic) {
        try (java.sql.Connection c = account.connect(); java.sql.PreparedStatement st = c.prepareStatement(
                "SELECT next_offset FROM kafka_offsets WHERE group_id = ? AND topic = ? AND kafka_partition = 0")) {
            st.setString(1, group);
            st.setString(2, topic);
            try (java.sql.ResultSet rs = st.executeQuery()) {
                return rs.next() ? rs.getLong(1) : null;
            }
        } catch (java.sql.SQLException e) {
            return null;
        }
    }

    // ---- helpers ------------------------------------------------------------------------------------------

    private static Check check(String name, int points, Scenarios.Result r, Predicate<Checker.Report> ok,
                               java.util.function.Function<Checker.Report, String> whyNot) {
        if (r.problem() != null) return new Check(name, points, false, r.problem() + " — " + runsProblem(r.runs()));
        boolean passed = ok.test(r.report());
        return new Check(name, points, passed, passed ? r.report().describe() : whyNot.apply(r.report()));
    }

    /** How many sends the program itself says failed (its RESUME line): only to explain a loss, never to excuse one. */
    private static int failedSends(Scenarios.Result r) {
        if (r.runs().isEmpty()) return 0;
        try {
            return r.runs().get(r.runs().size() - 1).output().summaryLongs("failedSeqs").size();
        } catch (RuntimeException e) {
            return 0;
        }
    }

    private ScriptRunner.Result run(Path file, String... args) {
        return scenarios.launch(file, List.of(args));
    }

    private static String runsProblem(List<ScriptRunner.Result> runs) {
        return runs.stream().filter(r -> r.exitCode() != 0 && r.exitCode() != 137 || r.timedOut() || r.truncated() || r.limit() != null)
                .map(Grader::runProblem).findFirst().orElse(runs.isEmpty() ? "" : runProblem(runs.get(runs.size() - 1)));
    }

    /** Why a run went wrong, in words a student can act on. */
    static String runProblem(ScriptRunner.Result r) {
        if (r.limit() != null) return r.limit();
        if (r.timedOut()) return "délai dépassé : le programme ne s'arrête pas (tué au bout de " + r.elapsed().toSeconds() + " s)";
        String last = r.stderr().lines().map(String::strip).filter(l -> !l.isEmpty() && !l.startsWith("[jbang]") && !l.startsWith("at "))
                .reduce((x, y) -> y).orElse("");
        if (r.exitCode() == 137 && !r.output().crashed()) return "arrêt brutal (code 137) sans crash simulé : Runtime.halt ?";
        if (r.exitCode() != 0 && r.exitCode() != 137) return "le programme s'est arrêté avec le code " + r.exitCode() + (last.isEmpty() ? "" : " (" + last + ")");
        if (!r.output().hasSummary() && r.exitCode() == 0) return "pas de ligne RESUME : le contrat de sortie n'est pas respecté (docs/CONTRAT.md)";
        return "code " + r.exitCode();
    }

    private static List<String> values(String runId, int from, int to) {
        return IntStream.rangeClosed(from, to).mapToObj(i -> runId + "-" + i).toList();
    }

    private static int parseSeq(String s) {
        try {
            return Integer.parseInt(s);
        } catch (NumberFormatException e) {
            return 0;
        }
    }

    private static String safe(String name) { return name.replaceAll("[^A-Za-z0-9._-]", "_"); }

    private static String unique() { return UUID.randomUUID().toString().replace("-", "").substring(0, 8); }
}
