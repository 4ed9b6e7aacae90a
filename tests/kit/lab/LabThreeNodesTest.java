package kit.lab;

import kit.broker.EmbeddedKafka;
import kit.run.ScriptRunner;
import kit.scenarios.Durability;
import kit.run.Topics;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static org.junit.jupiter.api.Assertions.assertAll;
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

    @Test
    void holdReplication_keepsTheFollowersLogEndBehindTheLeaders_releaseLetsThemCatchUp_badInputExits2() throws Exception {
        String topic = "retenue-" + UUID.randomUUID().toString().substring(0, 8);
        Topics.create(lab.bootstrapServers(), topic);
        TopicPartition tp = new TopicPartition(topic, 0);
        int leader;
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", lab.bootstrapServers()))) {
            leader = admin.describeTopics(List.of(topic)).allTopicNames().get().get(topic).partitions().get(0).leader().id();
        }
        ScriptRunner.Result held = fault("hold-replication", "--node", String.valueOf(leader));
        assertEquals(0, held.exitCode(), held.describe());
        assertTrue(held.stdout().contains("depuis le nœud " + leader), held.describe());
        try (KafkaProducer<String, String> p = new KafkaProducer<>(Map.of("bootstrap.servers", lab.bootstrapServers(), "acks", "1"),
                new StringSerializer(), new StringSerializer())) {
            for (int i = 0; i < 5; i++) p.send(new ProducerRecord<>(topic, "v" + i)).get();
        }
        Thread.sleep(1000); // followers would have fetched many times by now
        EmbeddedKafka cluster = lab.kafka().cluster();
        for (int i = 0; i < 3; i++) {
            long end = cluster.replicaOffsets(i, tp).orElseThrow()[0];
            assertEquals(cluster.nodeId(i) == leader ? 5 : 0, end, "fin de log du nœud " + cluster.nodeId(i) + " (leader " + leader + ")");
        }
        HttpResponse<String> state = LabCalls.get(lab.controlUrl(), "/api/replication?topic=" + topic);
        assertTrue(state.body().contains("\"node\":" + leader) && state.body().contains("\"logEndOffset\":0"), state.body());

        ScriptRunner.Result released = fault("release-replication");
        assertEquals(0, released.exitCode(), released.describe());
        long deadline = System.currentTimeMillis() + 15_000;
        while (!(cluster.replicaOffsets(0, tp).orElseThrow()[0] == 5 && cluster.replicaOffsets(1, tp).orElseThrow()[0] == 5
                && cluster.replicaOffsets(2, tp).orElseThrow()[0] == 5) && System.currentTimeMillis() < deadline) {
            Thread.sleep(100);
        }
        for (int i = 0; i < 3; i++) assertEquals(5, cluster.replicaOffsets(i, tp).orElseThrow()[0], "nœud " + cluster.nodeId(i) + " a rattrapé");

        ScriptRunner.Result unknown = fault("hold-replication", "--node", "7");
        assertEquals(2, unknown.exitCode(), unknown.describe());
        assertTrue(unknown.stderr().contains("nœud 7 inconnu"), unknown.describe());
        assertTrue(lab.kafka().replication().holds().isEmpty(), "rien ne reste retenu");
    }

    /** tour --scenario durabilite's rows, on this lab: the acknowledged records lost or kept, counted. */
    @Test
    void durabilityLessons_lossWithAcksOne_noneWithAcksAllMinIsrTwo_lossAgainWithMinIsrOne() {
        List<Durability.Lesson> lessons = new Durability(lab.kafka(), System.out::println).all();
        Durability.Lesson one = lessons.get(0), two = lessons.get(1), minOne = lessons.get(2);
        assertAll(
                () -> assertTrue(one.acked() == 5 && one.lost() == 5 && one.passed(), "acks=1 : les 5 acquittés perdus : " + one),
                () -> assertTrue(two.acked() == 5 && two.lost() == 0 && two.read() == 5 && two.passed(), "acks=all, min ISR 2 : rien de perdu : " + two),
                () -> assertTrue(minOne.acked() == 5 && minOne.lost() == 5 && minOne.passed(), "acks=all, min ISR 1 : perdus de nouveau : " + minOne));
    }
}
