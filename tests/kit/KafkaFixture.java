package kit;

import kit.broker.EmbeddedKafka;
import kit.run.Topics;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.StringSerializer;

import java.util.List;
import java.util.Properties;
import java.util.UUID;

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
                .withEnv("KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS", "0")
                // as the embedded broker and the compose files: a crashed KIP-848 consumer is declared dead after 10 s
                .withEnv("KAFKA_GROUP_CONSUMER_SESSION_TIMEOUT_MS", "10000")
                .withEnv("KAFKA_GROUP_CONSUMER_MIN_SESSION_TIMEOUT_MS", "6000");
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
        Topics.create(bootstrapServers, name);
    }

    /** Reads a whole topic (up to its end offsets) with the given isolation level. */
    public static List<ConsumerRecord<String, String>> readAll(String bootstrapServers, String topic, boolean readCommitted) {
        return Topics.readAll(bootstrapServers, topic, readCommitted);
    }

    public static List<String> readValues(String bootstrapServers, String topic, boolean readCommitted) {
        return readAll(bootstrapServers, topic, readCommitted).stream().map(ConsumerRecord::value).toList();
    }

    static Properties adminProps(String bootstrapServers) {
        return Topics.adminProps(bootstrapServers);
    }

    /** A plain String producer with these acks (no retries or idempotence set). */
    public static Properties producerProps(String bootstrap, String acks) {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ProducerConfig.ACKS_CONFIG, acks);
        p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        p.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, "15000");
        return p;
    }
}
