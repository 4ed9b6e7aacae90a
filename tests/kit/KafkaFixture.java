package kit;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

/**
 * The broker every test shares, chosen once per test JVM, in this order:
 * an external cluster given with {@code -Dkafka.bootstrap=host:port}; Testcontainers' apache/kafka:4.4.0
 * when Docker answers; otherwise the kit's embedded KRaft broker.
 */
public final class KafkaFixture {

    public static final String KAFKA_IMAGE = "apache/kafka:4.4.0";

    private static String bootstrap;
    private static String kind;

    private KafkaFixture() { }

    public static synchronized String bootstrap() {
        if (bootstrap == null) start();
        return bootstrap;
    }

    /** "externe", "testcontainers" or "embarqué": which broker the tests run against. */
    public static synchronized String kind() {
        bootstrap();
        return kind;
    }

    private static void start() {
        String external = System.getProperty("kafka.bootstrap");
        if (external != null && !external.isBlank()) {
            bootstrap = external;
            kind = "externe";
        } else if (dockerAvailable()) {
            startTestcontainers();
        } else {
            EmbeddedKafka cluster = EmbeddedKafka.start();
            Runtime.getRuntime().addShutdownHook(new Thread(cluster::close));
            bootstrap = cluster.bootstrapServers();
            kind = "embarqué";
        }
        System.out.println("[KafkaFixture] broker " + kind + " : " + bootstrap);
    }

    private static boolean dockerAvailable() {
        if (Boolean.getBoolean("kit.noDocker")) return false;
        try {
            return org.testcontainers.DockerClientFactory.instance().isDockerAvailable();
        } catch (Throwable t) {
            return false;
        }
    }

    private static void startTestcontainers() {
        var container = new org.testcontainers.kafka.KafkaContainer(KAFKA_IMAGE)
                .withEnv("KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR", "1")
                .withEnv("KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR", "1")
                .withEnv("KAFKA_TRANSACTION_STATE_LOG_MIN_ISR", "1")
                .withEnv("KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS", "0");
        container.start();
        Runtime.getRuntime().addShutdownHook(new Thread(container::stop));
        bootstrap = container.getBootstrapServers();
        kind = "testcontainers";
    }

    /** A fresh topic name, unique to this call, created with one partition. */
    public static String newTopic(String prefix) {
        String name = prefix + "-" + UUID.randomUUID().toString().substring(0, 8);
        createTopic(bootstrap(), name);
        return name;
    }

    public static void createTopic(String bootstrapServers, String name) {
        try (Admin admin = Admin.create(adminProps(bootstrapServers))) {
            int nodes = admin.describeCluster().nodes().get(10, TimeUnit.SECONDS).size();
            short rf = (short) Math.min(3, nodes);
            admin.createTopics(List.of(new NewTopic(name, 1, rf))).all().get(20, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new IllegalStateException("création du topic " + name + " impossible", e);
        }
    }

    /** Reads a whole topic (up to its end offsets) with the given isolation level. */
    public static List<ConsumerRecord<String, String>> readAll(String bootstrapServers, String topic, boolean readCommitted) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, readCommitted ? "read_committed" : "read_uncommitted");
        p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        List<ConsumerRecord<String, String>> out = new ArrayList<>();
        try (KafkaConsumer<String, String> c = new KafkaConsumer<>(p)) {
            TopicPartition tp = new TopicPartition(topic, 0);
            c.assign(Set.of(tp));
            c.seekToBeginning(Set.of(tp));
            // read_committed stops at the last stable offset, read_uncommitted at the high watermark
            long end = c.endOffsets(Set.of(tp), Duration.ofSeconds(10)).get(tp);
            long deadline = System.currentTimeMillis() + 20_000;
            while (c.position(tp, Duration.ofSeconds(10)) < end && System.currentTimeMillis() < deadline) {
                c.poll(Duration.ofMillis(200)).forEach(out::add);
            }
        }
        return out;
    }

    public static List<String> readValues(String bootstrapServers, String topic, boolean readCommitted) {
        return readAll(bootstrapServers, topic, readCommitted).stream().map(ConsumerRecord::value).toList();
    }

    static Properties adminProps(String bootstrapServers) {
        Properties p = new Properties();
        p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        p.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, "10000");
        p.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "15000");
        return p;
    }
}
