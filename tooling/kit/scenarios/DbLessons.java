package kit.scenarios;

import kit.db.Postgres;
import kit.run.ScriptRunner;
import kit.run.Topics;
import kit.semantics.Checker;
import kit.semantics.Semantic;
import kit.semantics.Verdict;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import java.util.stream.IntStream;

/**
 * {@code tour --scenario base}: the consumers of scripts/db, each crashed between its database commit and its Kafka
 * commit on the 5th of 10 records, run again to the end, and the rows of the database counted against the input. Each
 * row is judged by the consumer semantic whose claim it makes (at-least-once: no loss; at-most-once: no duplicate;
 * exactly-once: neither).
 */
public final class DbLessons {

    /** One row of the tour: its label, the semantic whose claim it holds, the script and its options, where the crash hits. */
    record Lesson(String label, Semantic claim, String script, List<String> options, String crashPoint, String fault, String explanation) { }

    static final List<Lesson> LESSONS = List.of(
            new Lesson("base : at-least-once", Semantic.CONSUMER_AT_LEAST_ONCE, "ConsumerDbAtLeastOnce", List.of(), "after-db-commit",
                    "crash entre les deux commits", "INSERT validé, puis commit Kafka : le crash entre les deux fait relire "
                            + "le message déjà écrit → une ligne en double."),
            new Lesson("base : at-most-once", Semantic.CONSUMER_AT_MOST_ONCE, "ConsumerDbAtLeastOnce", List.of("--at-most-once"),
                    "after-kafka-commit", "crash entre les deux commits", "commit Kafka, puis INSERT : le crash entre les deux "
                            + "saute un message jamais écrit → une ligne perdue."),
            new Lesson("base : exactly-once", Semantic.CONSUMER_EXACTLY_ONCE, "ConsumerDbExactlyOnce", List.of(), "after-db-commit",
                    "crash entre les deux commits", "lignes et offsets dans la même transaction SQL, seek sur l'offset de la base "
                            + "à l'assignation : la relance reprend où la base en est → ni perte ni doublon."),
            new Lesson("base : --idempotent", Semantic.CONSUMER_EXACTLY_ONCE, "ConsumerDbExactlyOnce", List.of("--idempotent"),
                    "after-db-commit", "crash entre les deux commits", "identifiant (clé unique) et ligne dans la même transaction "
                            + "SQL : le message relu est reconnu et ignoré → ni perte ni doublon."));

    public static Path script(String name) { return ScriptRunner.root().resolve("scripts").resolve("db").resolve(name + ".java"); }

    /** The scripts these lessons run (to build them while the broker and the database start). */
    public static List<Path> scripts() { return LESSONS.stream().map(l -> script(l.script())).distinct().toList(); }

    private final Scenarios scenarios;
    private final Postgres.Account database;

    public DbLessons(Scenarios scenarios, Postgres.Account database) {
        this.scenarios = scenarios;
        this.database = database;
    }

    /** Every lesson, one after the other; {@code progress} is told which one starts. */
    public List<Scenarios.Result> all(Consumer<String> progress) {
        List<Scenarios.Result> results = new ArrayList<>();
        int i = 0;
        for (Lesson l : LESSONS) {
            progress.accept(String.format("[%d/%d] %s, %s...", ++i, LESSONS.size(), l.label(), l.fault()));
            results.add(run(l));
        }
        return results;
    }

    /** 10 records, a crash on the 5th at the lesson's point, a run to the end; the rows against the input. */
    Scenarios.Result run(Lesson l) {
        String id = Scenarios.unique();
        String topic = "base-" + id;
        Topics.create(scenarios.bootstrap(), topic);
        List<String> input = IntStream.rangeClosed(1, 10).mapToObj(n -> id + "-" + n).toList();
        Topics.fill(scenarios.bootstrap(), topic, input);
        List<String> args = new ArrayList<>(List.of("-b", scenarios.bootstrap(), "-t", topic, "-g", "g-" + id,
                "--instance-id", "g-" + id + "-1", "--idle-ms", "2000"));
        args.addAll(database.args());
        args.addAll(l.options());
        List<String> crash = new ArrayList<>(args);
        crash.addAll(List.of("--crash-after", "5", "--crash-point", l.crashPoint()));
        Path script = script(l.script());
        List<ScriptRunner.Result> runs = new ArrayList<>();
        ScriptRunner.Result crashed = scenarios.launch(script, crash);
        runs.add(crashed);
        String problem = crashed.exitCode() != 137 ? "pas de crash simulé (code " + crashed.exitCode() + ") : " + crashed.describe() : null;
        if (problem == null) {
            ScriptRunner.Result rerun = scenarios.launch(script, args);
            runs.add(rerun);
            if (rerun.exitCode() != 0) problem = "la relance a échoué (code " + rerun.exitCode() + ") : " + rerun.describe();
        }
        Checker.Report report = Checker.checkProcessing(input, Postgres.rows(database, topic));
        Verdict verdict = Verdict.of(l.claim(), report, true);
        return new Scenarios.Result(l.claim(), l.fault(), input.size(), report, verdict, l.explanation(), problem, runs, -1,
                l.label(), l.claim().claim);
    }
}
