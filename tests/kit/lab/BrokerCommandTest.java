package kit.lab;

import kit.run.ScriptRunner;
import kit.util.Ports;

import org.junit.jupiter.api.Test;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** ./jbang broker as a student runs it: ready line, clean stop, and clear answers to bad input. */
class BrokerCommandTest {

    @Test
    void portInUse_saysWhichPortAndHowToPickAnother_within10s() throws Exception {
        // what starting the command costs on this machine now (JBang, the JVM): its --help, just before
        ScriptRunner.Result help = ScriptRunner.jbang(Duration.ofSeconds(60), "broker", "--help");
        assertEquals(0, help.exitCode(), help.describe());
        try (ServerSocket taken = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            int port = taken.getLocalPort();
            ScriptRunner.Result r = ScriptRunner.jbang(Duration.ofSeconds(60), "broker", "--port", String.valueOf(port));
            assertNotEquals(0, r.exitCode(), r.describe());
            assertTrue(r.stderr().contains("port " + port) && r.stderr().contains("--port"), r.describe());
            // the command answers within 10 s of its start (a loaded machine starts JVMs slowly: that is not the command's)
            assertTrue(r.elapsed().minus(help.elapsed()).toSeconds() < 10, "doit répondre en moins de 10 s : " + r.elapsed()
                    + " contre " + help.elapsed() + " pour --help");
        }
    }

    @Test
    void secondBroker_whileOneRuns_saysSoAndExits_andFirstStopsCleanly() throws Exception {
        int port = Ports.freePort();
        Process first = new ProcessBuilder(ScriptRunner.root().resolve("jbang").toString(), "broker", "--port", String.valueOf(port))
                .directory(ScriptRunner.root().toFile()).redirectErrorStream(true).start();
        try (BufferedReader out = new BufferedReader(new InputStreamReader(first.getInputStream(), StandardCharsets.UTF_8))) {
            // the ready line, after whatever the broker may log first
            StringBuilder before = new StringBuilder();
            String ready = out.readLine();
            while (ready != null && !ready.contains("prêt sur") && before.length() < 20_000) {
                before.append(ready).append('\n');
                ready = out.readLine();
            }
            assertTrue(ready != null && ready.contains("prêt sur localhost:" + port), "ligne prête attendue, reçu : " + before + ready);

            ScriptRunner.Result second = ScriptRunner.jbang(Duration.ofSeconds(30), "broker", "--port", String.valueOf(port));
            assertNotEquals(0, second.exitCode(), second.describe());
            assertTrue(second.stderr().contains("tourne déjà"), second.describe());

            first.toHandle().destroy(); // SIGTERM, like Ctrl-C: the shutdown hook stops the broker (Process.destroy would close our pipe)
            StringBuilder rest = new StringBuilder();
            for (String line; (line = out.readLine()) != null; ) rest.append(line).append('\n');
            assertTrue(first.waitFor(30, TimeUnit.SECONDS), "le broker doit s'arrêter");
            assertTrue(rest.toString().contains("Broker arrêté."), rest.toString());
            assertTrue(!rest.toString().contains("Exception"), "pas de trace de pile à l'arrêt : " + rest);
        } finally {
            ScriptRunner.killTree(first.toHandle());
        }
    }

    @Test
    void unusableDataDir_getsAClearMessage() throws Exception {
        Path file = Files.createTempFile("pas-un-dossier", ".txt");
        try {
            ScriptRunner.Result r = ScriptRunner.jbang(Duration.ofSeconds(30), "broker", "--port",
                    String.valueOf(Ports.freePort()), "--data-dir", file.resolve("donnees").toString());
            assertEquals(1, r.exitCode(), r.describe());
            assertTrue(r.stderr().contains("--data-dir") && !r.stderr().contains("\tat "), r.describe());
        } finally {
            Files.deleteIfExists(file);
        }
    }

    @Test
    void badOptions_areUsageErrors() {
        for (List<String> args : List.of(List.of("broker", "--brokers", "2"), List.of("broker", "--port", "abc"))) {
            ScriptRunner.Result r = ScriptRunner.jbang(Duration.ofSeconds(30), args.toArray(String[]::new));
            assertEquals(2, r.exitCode(), args + " : " + r.describe());
        }
    }

    @Test
    void faults_startsTheLab_readyLineGivesTheControlAddress_andFaultTalksToIt() throws Exception {
        int port = Ports.freePort();
        int control = Ports.freePort();
        Process lab = new ProcessBuilder(ScriptRunner.root().resolve("jbang").toString(), "broker", "--faults", "--port", String.valueOf(port),
                "--control-port", String.valueOf(control)).directory(ScriptRunner.root().toFile()).redirectErrorStream(true).start();
        try (BufferedReader out = new BufferedReader(new InputStreamReader(lab.getInputStream(), StandardCharsets.UTF_8))) {
            StringBuilder before = new StringBuilder();
            String ready = out.readLine();
            while (ready != null && !ready.contains("Labo prêt") && before.length() < 20_000) {
                before.append(ready).append('\n');
                ready = out.readLine();
            }
            assertTrue(ready != null && ready.contains("localhost:" + port) && ready.contains("http://localhost:" + control),
                    "ligne prête du labo attendue, reçu : " + before + ready);
            ScriptRunner.Result status = ScriptRunner.jbang(Duration.ofSeconds(60), "fault", "status", "--control", "http://localhost:" + control);
            assertEquals(0, status.exitCode(), status.describe());
            assertTrue(status.stdout().contains("nœud 1 (localhost:" + port + ") en marche"), status.describe());
            lab.toHandle().destroy();
            for (String line; (line = out.readLine()) != null; ) before.append(line).append('\n');
            assertTrue(lab.waitFor(30, TimeUnit.SECONDS), "le labo doit s'arrêter");
        } finally {
            lab.destroyForcibly();
        }
    }
}
