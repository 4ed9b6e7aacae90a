package kit.scenarios;

import kit.broker.EmbeddedKafka;
import kit.faults.FaultyKafka;
import kit.run.Topics;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.TopicPartitionInfo;
import org.apache.kafka.common.serialization.StringSerializer;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * What acks and min.insync.replicas promise when a leader dies (tour --scenario durabilite, notebook 08), on a
 * 3-node lab: replication is held (the replication gate), records are written, the leader is hard-stopped, then the
 * records acknowledged are counted in what the new leader serves.
 */
public final class Durability {

    /** Records written in each lesson. */
    static final int RECORDS = 5;

    /**
     * One lesson's counts: {@code acked} records acknowledged without error, {@code failed} reported as failed to
     * the producer, {@code read} read back after the old leader came back, {@code lost} acknowledged and not read.
     */
    public record Lesson(String name, String setup, int acked, int failed, int read, int lost, String expected, String observed, boolean passed) { }

    private final FaultyKafka kafka;
    private final Consumer<String> progress;

    public Durability(FaultyKafka kafka, Consumer<String> progress) {
        if (kafka.cluster().size() != 3) throw new IllegalArgumentException("la leçon de durabilité demande 3 nœuds");
        this.kafka = kafka;
        this.progress = progress;
    }

    /** The three lessons in the order of the story. */
    public List<Lesson> all() {
        return List.of(acksOne(), acksAllMinIsrTwo(), acksAllMinIsrOne());
    }

    /**
     * acks=1: the leader acknowledges on its own write. Replication held, the followers stay in the ISR (for less
     * than replica.lag.time.max.ms) without the records; the leader is stopped, one of them is elected (it is in the
     * ISR), and the old leader, back, truncates its log to the new leader's: every acknowledged record is gone.
     */
    public Lesson acksOne() {
        Run r = run("acks=1", "1", 2, Duration.ofSeconds(5));
        boolean passed = r.acked == RECORDS && r.lost == RECORDS;
        return new Lesson("acks=1", "min.insync.replicas=2, réplication retenue, leader arrêté", r.acked, r.failed, r.read, r.lost,
                "les " + RECORDS + " messages acquittés par le seul leader sont perdus", r.observed(), passed);
    }

    /**
     * acks=all, min.insync.replicas=2: the leader acknowledges only once every ISR member has the record. Replication
     * held, nothing is acknowledged; the leader is stopped, the producer sends again to the new leader, which
     * replicates: every record is acknowledged then, and none is lost.
     */
    public Lesson acksAllMinIsrTwo() {
        Run r = run("acks=all", "all", 2, Duration.ofSeconds(3));
        boolean passed = r.lost == 0 && r.ackedBeforeStop == 0 && r.acked == RECORDS;
        return new Lesson("acks=all, min ISR 2", "réplication retenue, leader arrêté", r.acked, r.failed, r.read, r.lost,
                "rien d'acquitté avant la réplication, rien de perdu", r.observed(), passed);
    }

    /**
     * acks=all, min.insync.replicas=1: once the ISR has shrunk to the leader alone (replica.lag.time.max.ms), acks=all
     * waits for it alone and acknowledges. The leader stopped, no replica in the ISR is left: with unclean leader
     * election off the partition stays offline (nothing lost yet, nothing served); an unclean election (what
     * unclean.leader.election.enable=true allows, here asked for by Admin.electLeaders) makes a follower without the
     * records the leader, and the old leader truncates them when it comes back.
     */
    public Lesson acksAllMinIsrOne() {
        Run r = run("acks=all, min ISR 1", "all", 1, Duration.ofSeconds(40));
        boolean passed = r.acked == RECORDS && r.lost == RECORDS && r.offlineUntilUnclean;
        return new Lesson("acks=all, min ISR 1", "l'ISR réduit au leader, leader arrêté, élection impure", r.acked, r.failed, r.read, r.lost,
                "hors ligne tant que l'élection impure n'est pas demandée, puis les " + RECORDS + " messages acquittés perdus", r.observed(), passed);
    }

    /** What one run saw. */
    private record Run(int ackedBeforeStop, int acked, int failed, int read, int lost, boolean offlineUntilUnclean, List<String> notes) {
        String observed() { return String.join(" ; ", notes); }
    }

    private Run run(String label, String acks, int minIsr, Duration waitForAcks) {
        EmbeddedKafka cluster = kafka.cluster();
        String topic = "durabilite-" + UUID.randomUUID().toString().substring(0, 8);
        TopicPartition tp = new TopicPartition(topic, 0);
        List<String> notes = new ArrayList<>();
        progress.accept("▶ " + label + " (min.insync.replicas=" + minIsr + ")");
        try (Admin admin = Admin.create(adminConfig())) {
            admin.createTopics(List.of(new NewTopic(topic, 1, (short) 3).configs(Map.of("min.insync.replicas", String.valueOf(minIsr)))))
                    .all().get(30, TimeUnit.SECONDS);
            int leader = awaitIsr(admin, topic, 3, Duration.ofSeconds(30)).leader().id();
            kafka.holdReplication(leader, 0);
            progress.accept("  réplication retenue depuis le leader, le nœud " + leader);
            List<String> values = new ArrayList<>();
            List<Future<RecordMetadata>> sends = new ArrayList<>();
            KafkaProducer<String, String> producer = new KafkaProducer<>(producerConfig(acks));
            for (int i = 1; i <= RECORDS; i++) {
                String v = topic + "-" + i;
                values.add(v);
                sends.add(producer.send(new ProducerRecord<>(topic, v, v)));
            }
            long deadline = System.nanoTime() + waitForAcks.toNanos();
            while (System.nanoTime() < deadline && done(sends) < RECORDS) Thread.sleep(100);
            int ackedBefore = acked(sends, Set.of()).size();
            int isrBefore = isr(admin, topic).size();
            progress.accept("  acquittés avant l'arrêt : " + ackedBefore + "/" + RECORDS + ", ISR de " + isrBefore + " nœud(s), fin de log par nœud : " + ends(tp));
            notes.add(ackedBefore + " acquitté(s) avant l'arrêt du leader, ISR " + isrBefore);
            cluster.crashNode(cluster.indexOf(leader));
            kafka.replication().release();
            progress.accept("  nœud " + leader + " arrêté, réplication rendue");
            // the controller fences the stopped node after broker.session.timeout.ms (3 s on the lab), then elects from the ISR
            TopicPartitionInfo after = awaitNewLeader(admin, topic, leader, Duration.ofSeconds(minIsr == 1 ? 8 : 30));
            boolean offline = after == null;
            if (offline) {
                notes.add("aucun réplica de l'ISR en vie : partition hors ligne");
                progress.accept("  partition hors ligne (aucun leader) ; élection impure demandée");
                admin.electLeaders(org.apache.kafka.common.ElectionType.UNCLEAN, Set.of(tp)).all().get(15, TimeUnit.SECONDS);
                after = awaitNewLeader(admin, topic, leader, Duration.ofSeconds(30));
            }
            notes.add(after == null ? "aucun nouveau leader" : (offline ? "élu hors ISR : nœud " : "nouveau leader : nœud ") + after.leader().id());
            // the producer goes on: its unanswered sends are retried to the new leader, or expire
            Set<Integer> failed = new HashSet<>();
            for (int i = 0; i < sends.size(); i++) {
                try {
                    sends.get(i).get(40, TimeUnit.SECONDS);
                } catch (ExecutionException | java.util.concurrent.TimeoutException e) {
                    failed.add(i);
                }
            }
            producer.close(Duration.ofSeconds(5));
            producer = null;
            List<String> acked = acked(sends, failed).stream().map(values::get).toList();
            cluster.restartNode(cluster.indexOf(leader));
            awaitIsr(admin, topic, 3, Duration.ofSeconds(60));
            progress.accept("  nœud " + leader + " redémarré, fin de log par nœud : " + ends(tp));
            List<String> read = Topics.readValues(kafka.bootstrapServers(), topic, false).stream().map(kit.semantics.Checker.ReadValue::value).toList();
            int lost = (int) acked.stream().filter(v -> !read.contains(v)).count();
            progress.accept("  acquittés " + acked.size() + ", en échec " + failed.size() + ", relus " + read.size() + ", perdus " + lost);
            return new Run(ackedBefore, acked.size(), failed.size(), read.size(), lost, offline, notes);
        } catch (Exception e) {
            kafka.replication().release();
            throw new IllegalStateException("leçon « " + label + " » interrompue : " + e, e);
        } finally {
            for (int i = 0; i < cluster.size(); i++) {
                if (!cluster.isRunning(i)) cluster.restartNode(i);
            }
        }
    }

    private static int done(List<Future<RecordMetadata>> sends) {
        return (int) sends.stream().filter(Future::isDone).count();
    }

    /** Indexes of the sends acknowledged without error. */
    private static List<Integer> acked(List<Future<RecordMetadata>> sends, Set<Integer> failed) {
        List<Integer> out = new ArrayList<>();
        for (int i = 0; i < sends.size(); i++) {
            Future<RecordMetadata> f = sends.get(i);
            if (failed.contains(i) || !f.isDone()) continue;
            try {
                f.get();
                out.add(i);
            } catch (Exception e) {
                // failed: reported to the producer
            }
        }
        return out;
    }

    private String ends(TopicPartition tp) {
        EmbeddedKafka cluster = kafka.cluster();
        StringBuilder s = new StringBuilder();
        for (int i = 0; i < cluster.size(); i++) {
            if (s.length() > 0) s.append(", ");
            s.append(cluster.nodeId(i)).append(':').append(cluster.replicaOffsets(i, tp).map(o -> String.valueOf(o[0])).orElse("-"));
        }
        return s.toString();
    }

    private Properties adminConfig() {
        Properties p = new Properties();
        p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.cluster().internalBootstrapServers());
        p.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, "5000");
        p.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "10000");
        return p;
    }

    private Properties producerConfig(String acks) {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
        p.put(ProducerConfig.CLIENT_ID_CONFIG, "durabilite");
        p.put(ProducerConfig.ACKS_CONFIG, acks);
        p.put(ProducerConfig.LINGER_MS_CONFIG, "0");
        p.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, "30000");
        p.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, "45000");
        p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        return p;
    }

    private static List<Integer> isr(Admin admin, String topic) throws Exception {
        return partition(admin, topic).isr().stream().map(Node::id).toList();
    }

    private static TopicPartitionInfo partition(Admin admin, String topic) throws Exception {
        TopicDescription d = admin.describeTopics(List.of(topic)).allTopicNames().get(10, TimeUnit.SECONDS).get(topic);
        return d.partitions().get(0);
    }

    private static TopicPartitionInfo awaitIsr(Admin admin, String topic, int size, Duration timeout) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            try {
                TopicPartitionInfo p = partition(admin, topic);
                if (p.leader() != null && p.isr().size() >= size) return p;
            } catch (ExecutionException notYet) {
                // the topic is not known everywhere yet
            }
            if (System.nanoTime() > deadline) throw new IllegalStateException("l'ISR de " + topic + " n'a pas " + size + " nœuds après " + timeout.toSeconds() + " s");
            Thread.sleep(200);
        }
    }

    /** The partition once a node other than {@code old} leads it; null if none does within the timeout. */
    private static TopicPartitionInfo awaitNewLeader(Admin admin, String topic, int old, Duration timeout) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            try {
                TopicPartitionInfo p = partition(admin, topic);
                if (p.leader() != null && p.leader().id() != old) return p;
            } catch (ExecutionException notYet) {
                // the old leader's metadata is gone, the new one not there yet
            }
            Thread.sleep(200);
        }
        return null;
    }
}
