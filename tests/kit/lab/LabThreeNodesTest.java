package kit.lab;

import kit.run.ScriptRunner;
import kit.run.Topics;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.UUID;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The lab on 3 nodes: a node stopped and started from the CLI, and the clear refusals around it. */
class LabThreeNodesTest {

    private static Lab lab;

    @BeforeAll
    static void start() {
        lab = Lab.start(3, 0, 0);
    }

    @AfterAll
    static void stop() {
        if (lab != null) lab.close();
    }

    private static ScriptRunner.Result fault(String... args) { return LabCalls.fault(lab, Duration.ofSeconds(120), args); }

    @Test
    void stopBroker_isACrash_statusSaysSo_theClusterKeepsServing_andStartBrokerBringsItBack() {
        String topic = "trois-" + UUID.randomUUID().toString().substring(0, 8);
        Topics.create(lab.bootstrapServers(), topic);

        ScriptRunner.Result stopped = fault("stop-broker", "2");
        assertEquals(0, stopped.exitCode(), stopped.describe());
        assertTrue(!lab.kafka().cluster().isRunning(1), "le nœud 2 doit être arrêté");
        ScriptRunner.Result status = fault("status");
        assertTrue(status.stdout().contains("nœud 2 (localhost:" + lab.kafka().cluster().clientPort(1) + ") ARRÊTÉ"), status.describe());

        ScriptRunner.Result second = fault("stop-broker", "3");
        assertEquals(1, second.exitCode(), second.describe());
        assertTrue(second.stderr().contains("nœud 2 est déjà arrêté") && second.stderr().contains("quorum"), second.describe());
        ScriptRunner.Result unknown = fault("stop-broker", "7");
        assertEquals(1, unknown.exitCode(), unknown.describe());
        assertTrue(unknown.stderr().contains("nœud 7 inconnu"), unknown.describe());

        // acks=all with min.insync.replicas=2: two nodes are enough to go on
        ScriptRunner.Result run = ScriptRunner.jbang(Duration.ofSeconds(120), "scripts/ProducerAtLeastOnce.java",
                "-b", lab.bootstrapServers(), "-t", topic, "--count", "5", "--run-id", "t3");
        assertEquals(0, run.exitCode(), run.describe());
        assertEquals(5, run.output().summaryInt("acked"), run.describe());

        ScriptRunner.Result started = fault("start-broker", "2");
        assertEquals(0, started.exitCode(), started.describe());
        assertTrue(lab.kafka().cluster().isRunning(1));
        ScriptRunner.Result again = fault("start-broker", "2");
        assertEquals(1, again.exitCode(), again.describe());
        assertTrue(again.stderr().contains("déjà en marche"), again.describe());
        assertEquals(5, Topics.readValues(lab.bootstrapServers(), topic, false).size());
    }
}
