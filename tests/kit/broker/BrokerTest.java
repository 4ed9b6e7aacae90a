package kit.broker;

import kit.KafkaFixture;
import kit.run.Topics;
import kit.util.Folders;
import kit.util.Ports;

import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The lab broker is a real Kafka: round trips, transactions, restarts and node failures behave as Kafka's do. */
class BrokerTest {

    @Test
    void sharedBroker_roundTrip_readsBackWhatWasWritten() throws Exception {
        String bootstrap = KafkaFixture.bootstrap();
        String topic = KafkaFixture.newTopic("aller-retour");
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(KafkaFixture.producerProps(bootstrap, "all"))) {
            for (int i = 1; i <= 5; i++) producer.send(new ProducerRecord<>(topic, "k" + i, "v" + i)).get();
        }
        assertEquals(List.of("v1", "v2", "v3", "v4", "v5"), KafkaFixture.readValues(bootstrap, topic, false));
    }

    @Test
    void singleNode_committedAndAbortedTransactions_areSeenAccordingToIsolationLevel() {
        committedAndAbortedTransactions(KafkaFixture.bootstrap());
    }

    @Test
    void threeNodes_committedAndAbortedTransactions_areSeenAccordingToIsolationLevel() {
        try (EmbeddedKafka cluster = EmbeddedKafka.start(new EmbeddedKafka.Options().brokers(3).port(0))) {
            committedAndAbortedTransactions(cluster.bootstrapServers());
        }
    }

    private static void committedAndAbortedTransactions(String bootstrap) {
        String topic = "transactions-" + System.nanoTime();
        KafkaFixture.createTopic(bootstrap, topic);
        Properties p = KafkaFixture.producerProps(bootstrap, "all");
        p.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, "tx-" + topic);
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(p)) {
            producer.initTransactions();
            producer.beginTransaction();
            producer.send(new ProducerRecord<>(topic, "c1", "validé-1"));
            producer.send(new ProducerRecord<>(topic, "c2", "validé-2"));
            producer.commitTransaction();
            producer.beginTransaction();
            producer.send(new ProducerRecord<>(topic, "a1", "avorté-1"));
            producer.flush();
            producer.abortTransaction();
        }
        assertEquals(List.of("validé-1", "validé-2"), KafkaFixture.readValues(bootstrap, topic, true));
        assertEquals(List.of("validé-1", "validé-2", "avorté-1"), KafkaFixture.readValues(bootstrap, topic, false));
    }

    @Test
    void keptDataDir_restart_keepsCommittedRecords() throws Exception {
        Path dir = Files.createTempDirectory("donnees-kafka-");
        try {
            String topic = "persistant";
            try (EmbeddedKafka first = EmbeddedKafka.start(new EmbeddedKafka.Options().port(0).dataDir(dir))) {
                KafkaFixture.createTopic(first.bootstrapServers(), topic);
                try (KafkaProducer<String, String> producer = new KafkaProducer<>(KafkaFixture.producerProps(first.bootstrapServers(), "all"))) {
                    for (int i = 1; i <= 3; i++) producer.send(new ProducerRecord<>(topic, "k", "gardé-" + i)).get();
                }
            }
            try (EmbeddedKafka second = EmbeddedKafka.start(new EmbeddedKafka.Options().port(0).dataDir(dir))) {
                assertEquals(List.of("gardé-1", "gardé-2", "gardé-3"), KafkaFixture.readValues(second.bootstrapServers(), topic, false));
            }
        } finally {
            Folders.deleteRecursively(dir);
        }
    }

    /** A node's ports are listened on again at its restart: none is in the range the OS hands out to outgoing connections. */
    @Test
    void nodePorts_areBelowTheEphemeralRange() {
        for (int i = 0; i < 20; i++) {
            int p = Ports.freeStablePort();
            assertTrue(p >= 20000 && p < Ports.ephemeralLow(), "port " + p + " dans la plage éphémère (dès " + Ports.ephemeralLow() + ")");
        }
    }

    /**
     * The lab's halts. A port of a stopped node taken by someone else made Kafka's controller halt the JVM at restart
     * (« Received a fatal error while waiting for all of the SocketServer Acceptors to be started »): the restart now
     * waits for the port. A fatal fault raised by a node's own threads during its stop (Kafka's metadata loader reading
     * the metadata log its shutdown just closed) ends that node only. The JVM's end is turned into an exception here, so
     * that a regression fails this test, not the JVM.
     */
    @Test
    void nodeRestart_portBrieflyTaken_orFatalFaultWhileStopping_neverHaltsTheJvm() throws Exception {
        java.util.concurrent.atomic.AtomicReference<String> halted = new java.util.concurrent.atomic.AtomicReference<>();
        NodeHalts.onFatal((code, message) -> {
            halted.set("halt(" + code + ") dans " + Thread.currentThread().getName());
            throw new IllegalStateException("Kafka a voulu arrêter la JVM");
        });
        try (EmbeddedKafka cluster = EmbeddedKafka.start()) {
            int port = cluster.controllerPort(0);
            cluster.stopNode(0);
            // the stopped node's metadata loader hits a fatal fault: it ends with its node
            assertTrue(haltFrom("kafka-1-metadata-loader-event-handler") instanceof NodeHalts.NodeHalted);
            assertEquals(null, halted.get(), "la faute fatale d'un nœud arrêté a arrêté la JVM");
            // any other node's fatal fault still ends the JVM (here: the exception above)
            assertTrue(haltFrom("kafka-5-metadata-loader-event-handler") instanceof IllegalStateException);
            assertTrue(halted.getAndSet(null) != null, "la faute fatale d'un nœud en marche doit arrêter la JVM");

            java.net.ServerSocket thief = new java.net.ServerSocket();
            thief.bind(new java.net.InetSocketAddress(java.net.InetAddress.getLoopbackAddress(), port));
            Thread release = new Thread(() -> {
                try { Thread.sleep(1500); thief.close(); } catch (Exception ignored) { }
            });
            release.start();
            try {
                cluster.restartNode(0);
            } catch (RuntimeException e) {
                // without the wait: Kafka's halt, turned into this exception
            }
            release.join();
            assertEquals(null, halted.get(), "Kafka a arrêté la JVM au redémarrage (port " + port + " pris)");
            assertTrue(cluster.isRunning(0));
            String topic = KafkaFixture.newTopic("apres-redemarrage");
            KafkaFixture.createTopic(cluster.bootstrapServers(), topic);
            try (KafkaProducer<String, String> producer = new KafkaProducer<>(KafkaFixture.producerProps(cluster.bootstrapServers(), "all"))) {
                producer.send(new ProducerRecord<>(topic, "k", "v")).get(30, TimeUnit.SECONDS);
            }
            assertEquals(List.of("v"), KafkaFixture.readValues(cluster.bootstrapServers(), topic, false));
        } finally {
            NodeHalts.onFatal(null);
        }
    }

    /** Kafka's halt called from a thread of this name: what it threw instead of ending the JVM. */
    private static Throwable haltFrom(String threadName) throws InterruptedException {
        java.util.concurrent.atomic.AtomicReference<Throwable> thrown = new java.util.concurrent.atomic.AtomicReference<>();
        Thread t = new Thread(() -> {
            try {
                org.apache.kafka.common.utils.internals.Exit.halt(1);
            } catch (Throwable e) {
                thrown.set(e);
            }
        }, threadName);
        t.start();
        t.join();
        return thrown.get();
    }

    @Test
    void threeNodes_leaderStoppedWithAcksAll_losesNothing() throws Exception {
        try (EmbeddedKafka cluster = EmbeddedKafka.start(new EmbeddedKafka.Options().brokers(3).port(0))) {
            String bootstrap = cluster.bootstrapServers();
            String topic = "panne-leader";
            KafkaFixture.createTopic(bootstrap, topic);
            Properties p = KafkaFixture.producerProps(bootstrap, "all");
            p.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, "60000");
            List<String> acked = new ArrayList<>();
            try (KafkaProducer<String, String> producer = new KafkaProducer<>(p)) {
                List<Future<RecordMetadata>> sends = new ArrayList<>();
                List<String> values = new ArrayList<>();
                for (int i = 1; i <= 60; i++) {
                    if (i == 20) {
                        // stop the partition leader in the middle of the stream
                        cluster.stopNode(cluster.indexOf(Topics.leader(bootstrap, topic)));
                    }
                    String v = "m-" + i;
                    values.add(v);
                    sends.add(producer.send(new ProducerRecord<>(topic, v, v)));
                    Thread.sleep(20);
                }
                producer.flush();
                for (int i = 0; i < sends.size(); i++) {
                    try {
                        sends.get(i).get(30, TimeUnit.SECONDS);
                        acked.add(values.get(i));
                    } catch (Exception ignored) {
                        // not acknowledged: not claimed, so not counted as lost
                    }
                }
            }
            assertEquals(60, acked.size(), "acks=all + retries : tous les envois doivent finir acquittés");
            Set<String> read = new HashSet<>(KafkaFixture.readValues(bootstrap, topic, false));
            List<String> lost = acked.stream().filter(v -> !read.contains(v)).toList();
            assertEquals(List.of(), lost, "acquittés mais jamais relus (perdus)");
        }
    }

}
