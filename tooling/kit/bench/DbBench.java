package kit.bench;

import kit.db.Postgres;
import kit.run.Program;
import kit.run.ScriptRunner;
import kit.run.Topics;
import kit.scenarios.DbLessons;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.Consumer;
import java.util.stream.IntStream;

/**
 * {@code ./jbang bench --base}: how long ./jbang db takes to be ready, and the rows per second of the exactly-once DB
 * consumer against the at-least-once one, on one broker and one database, the same input for both (one run each).
 */
final class DbBench {

    /** One consumer's rows per second: rows written over the span between the first and the last written_at. */
    record Rate(String script, int rows, double seconds) {
        double rowsPerSec() { return seconds <= 0 ? 0 : (rows - 1) / seconds; }
    }

    /** What was measured: Db's start (its own figure and from its JVM's launch), then the two consumers. */
    record Result(String readyLine, Duration launchToReady, Rate atLeastOnce, Rate exactlyOnce) {
        double ratio() { return exactlyOnce.rowsPerSec() / atLeastOnce.rowsPerSec(); }
    }

    private DbBench() { }

    static Result measure(String bootstrap, int records, Consumer<String> progress) {
        Path alo = DbLessons.script("ConsumerDbAtLeastOnce");
        Path eo = DbLessons.script("ConsumerDbExactlyOnce");
        Program.prepare(alo);
        Program.prepare(eo);
        progress.accept("Démarrage de ./jbang db (PostgreSQL, dossier temporaire)...");
        try (Postgres pg = Postgres.start(Duration.ofMinutes(5))) {
            progress.accept("  " + pg.readyLine().strip());
            Postgres.Account account = pg.newDatabase("bench");
            String id = UUID.randomUUID().toString().substring(0, 8);
            List<String> values = IntStream.rangeClosed(1, records).mapToObj(i -> id + "-" + i).toList();
            Rate atLeastOnce = run(alo, bootstrap, account, "bench-base-alo-" + id, values, progress);
            Rate exactlyOnce = run(eo, bootstrap, account, "bench-base-eo-" + id, values, progress);
            return new Result(pg.readyLine(), pg.launchToReady(), atLeastOnce, exactlyOnce);
        }
    }

    private static Rate run(Path script, String bootstrap, Postgres.Account account, String topic, List<String> values,
                            Consumer<String> progress) {
        Topics.create(bootstrap, topic);
        Topics.fill(bootstrap, topic, values);
        String name = script.getFileName().toString().replace(".java", "");
        progress.accept(name + " : " + values.size() + " messages...");
        List<String> args = new java.util.ArrayList<>(List.of("-b", bootstrap, "-t", topic, "-g", "g-" + topic, "--idle-ms", "3000"));
        args.addAll(account.args());
        Program.Build build = Program.prepare(script).join();
        if (!build.ok()) throw new IllegalStateException(name + " : " + build.problem());
        ScriptRunner.Result r = build.program().run(Duration.ofMinutes(20), Map.of(), p -> { }, args);
        if (r.exitCode() != 0) throw new IllegalStateException(name + " : " + r.describe());
        try (Connection c = account.connect(); PreparedStatement st = c.prepareStatement(
                "SELECT count(*), EXTRACT(EPOCH FROM max(written_at) - min(written_at)) FROM kafka_rows WHERE topic = ?")) {
            st.setString(1, topic);
            try (ResultSet rs = st.executeQuery()) {
                rs.next();
                return new Rate(name, rs.getInt(1), rs.getDouble(2));
            }
        } catch (SQLException e) {
            throw new IllegalStateException("lecture de kafka_rows impossible : " + e.getMessage(), e);
        }
    }
}
