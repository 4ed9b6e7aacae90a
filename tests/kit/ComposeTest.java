package kit;

import kit.run.ScriptRunner;
import kit.util.Folders;
import kit.util.Ports;

import kafka.docker.KafkaDockerWrapper$;
import kafka.server.KafkaConfig;
import kafka.server.KafkaRaftServer;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.common.utils.Time;
import org.apache.kafka.metadata.storage.Formatter;
import org.apache.kafka.server.common.MetadataVersion;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.Yaml;

import java.io.OutputStream;
import java.io.PrintStream;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The compose files validate (docker-compose needs no engine for that), and the Kafka configuration they
 * describe boots: each service's {@code KAFKA_*} environment becomes its server.properties as the apache/kafka
 * image builds it, then the nodes start in this JVM (Kafka 4.4.0's own {@link KafkaRaftServer}), form a
 * cluster and carry a transaction. Docker itself is never started.
 */
class ComposeTest {

    @Test
    void composeFiles_validate() throws Exception {
        boolean present = ScriptRunner.run(List.of("sh", "-c", "command -v docker-compose"), ScriptRunner.root(), Map.of(),
                Duration.ofSeconds(10)).exitCode() == 0;
        if (!present && !"true".equals(System.getenv("CI"))) {
            System.out.println("!!! docker-compose absent : validation des fichiers compose IGNORÉE (apt-get install docker-compose)");
        }
        Assumptions.assumeTrue(present || "true".equals(System.getenv("CI")), "docker-compose absent (apt-get install docker-compose)");
        for (String file : List.of("docker-compose.yml", "docker-compose.single.yml")) {
            ScriptRunner.Result r = ScriptRunner.run(List.of("docker-compose", "-f", file, "config", "-q"), ScriptRunner.root(),
                    Map.of(), Duration.ofSeconds(60));
            assertEquals(0, r.exitCode(), file + " : " + r.describe());
        }
        String cluster = Files.readString(ScriptRunner.root().resolve("docker-compose.yml"));
        for (String port : List.of("9092:9092", "9093:9093", "9094:9094")) assertTrue(cluster.contains(port), port);
        assertTrue(cluster.contains("KAFKA_MIN_INSYNC_REPLICAS: 2"));
        String single = Files.readString(ScriptRunner.root().resolve("docker-compose.single.yml"));
        assertTrue(single.contains("KAFKA_TRANSACTION_STATE_LOG_MIN_ISR: 1") && single.contains("KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR: 1"));
    }

    @Test
    void clusterFile_bootsThreeNodes_andCommitsATransaction() throws Exception {
        bootAndTransact(ScriptRunner.root().resolve("docker-compose.yml"), 3);
    }

    @Test
    void singleFile_bootsOneNode_andCommitsATransaction() throws Exception {
        bootAndTransact(ScriptRunner.root().resolve("docker-compose.single.yml"), 1);
    }

    /** The image's rule, written out: KAFKA_ dropped, lower case, {@code _} → {@code .}, {@code __} → {@code _}, {@code ___} → {@code -}. */
    @Test
    void environmentTranslation_followsTheImage() {
        Map<String, String> env = Map.of(
                "KAFKA_LISTENER_SECURITY_PROTOCOL_MAP", "a",
                "KAFKA_LISTENER_NAME_CLIENT_SCRAM___SHA___256_SASL__JAAS_CONFIG", "b",
                "KAFKA_HEAP_OPTS", "-Xmx1g",
                "CLUSTER_ID", "x");
        Map<String, String> expected = Map.of(
                "listener.security.protocol.map", "a",
                "listener.name.client.scram-sha-256.sasl_jaas.config", "b");
        assertEquals(expected, serverProperties(env));
        assertEquals(expected, imageServerProperties(env));
    }

    // ---------------------------------------------------------------------------------------

    /** Variables the image uses for the JVM or its logs, never for server.properties (kafka.docker.Constants). */
    private static final Set<String> NOT_SERVER_PROPERTIES = Set.of("KAFKA_VERSION", "KAFKA_HEAP_OPTS", "KAFKA_LOG4J_OPTS",
            "KAFKA_OPTS", "KAFKA_JMX_OPTS", "KAFKA_JVM_PERFORMANCE_OPTS", "KAFKA_GC_LOG_OPTS", "KAFKA_LOG4J_ROOT_LOGLEVEL",
            "KAFKA_LOG4J_LOGGERS", "KAFKA_TOOLS_LOG4J_LOGLEVEL", "KAFKA_JMX_HOSTNAME");

    static Map<String, String> serverProperties(Map<String, String> env) {
        Map<String, String> props = new TreeMap<>();
        env.forEach((key, value) -> {
            if (!key.startsWith("KAFKA_") || NOT_SERVER_PROPERTIES.contains(key)) return;
            String name = key.substring("KAFKA_".length()).toLowerCase()
                    .replace("_", ".").replace("...", "-").replace("..", "_");
            props.put(name, value);
        });
        return props;
    }

    /** The same, by the image's own code (kafka.docker.KafkaDockerWrapper, in the kafka_2.13 jar the image runs). */
    static Map<String, String> imageServerProperties(Map<String, String> env) {
        scala.collection.immutable.Map<String, String> scalaEnv =
                scala.collection.immutable.Map$.MODULE$.from(scala.jdk.javaapi.CollectionConverters.asScala(env));
        Map<String, String> props = new TreeMap<>();
        for (String line : scala.jdk.javaapi.CollectionConverters.asJava(KafkaDockerWrapper$.MODULE$.getServerConfigsFromEnv(scalaEnv))) {
            if (line.isEmpty()) continue;
            int eq = line.indexOf('=');
            props.put(line.substring(0, eq), line.substring(eq + 1));
        }
        return props;
    }

    /** One compose service, as far as Kafka is concerned. */
    record Service(String name, Set<String> hostNames, Map<String, String> env, Map<Integer, Integer> publishedPorts) { }

    @SuppressWarnings("unchecked")
    static List<Service> services(Path composeFile) throws Exception {
        Map<String, Object> doc;
        try (Reader in = Files.newBufferedReader(composeFile)) {
            doc = new Yaml().load(in);
        }
        Map<String, Object> services = (Map<String, Object>) doc.get("services");
        assertTrue(services != null && !services.isEmpty(), composeFile + " : aucune section services");
        List<Service> result = new ArrayList<>();
        services.forEach((name, value) -> {
            Map<String, Object> service = (Map<String, Object>) value;
            // the postgres service (for scripts/db) is not a Kafka node
            if (!String.valueOf(service.get("image")).startsWith("apache/kafka")) return;
            Set<String> hostNames = new TreeSet<>(List.of(name));
            for (String key : List.of("hostname", "container_name")) {
                if (service.get(key) != null) hostNames.add(String.valueOf(service.get(key)));
            }
            Map<String, String> env = new LinkedHashMap<>();
            ((Map<String, Object>) service.getOrDefault("environment", Map.of())).forEach((k, v) -> env.put(k, String.valueOf(v)));
            Map<Integer, Integer> published = new HashMap<>();
            for (Object mapping : (List<Object>) service.getOrDefault("ports", List.of())) {
                String[] parts = String.valueOf(mapping).split(":");   // [ip:]host:container
                published.put(Integer.parseInt(parts[parts.length - 2]), Integer.parseInt(parts[parts.length - 1]));
            }
            result.add(new Service(name, hostNames, env, published));
        });
        return result;
    }

    /**
     * Every address of the compose network, (service, port in its container), gets one free loopback port here;
     * {@code localhost:P} on the host means the container port P is published to. Two listeners of one service on
     * the same container port thus land on the same port here, and Kafka refuses them, as it would in Docker.
     */
    static final class Addresses {
        private static final Pattern HOST_PORT = Pattern.compile("(?<=^|,|//|@)([^,/@:]*):(\\d+)");
        private final List<Service> services;
        private final Map<String, Integer> ports = new HashMap<>();

        Addresses(List<Service> services) { this.services = services; }

        String rewrite(Service self, String value) {
            Matcher m = HOST_PORT.matcher(value);
            StringBuilder out = new StringBuilder();
            while (m.find()) {
                String host = m.group(1);
                int port = Integer.parseInt(m.group(2));
                Service target;
                int containerPort = port;
                if (host.isEmpty() || host.equals("0.0.0.0")) {
                    target = self;
                } else if (host.equals("localhost") || host.equals("127.0.0.1")) {
                    target = services.stream().filter(s -> s.publishedPorts().containsKey(port)).findFirst()
                            .orElseThrow(() -> new AssertionError(self.name() + " annonce localhost:" + port
                                    + ", mais aucun service ne publie ce port (ports:)"));
                    containerPort = target.publishedPorts().get(port);
                } else {
                    target = services.stream().filter(s -> s.hostNames().contains(host)).findFirst()
                            .orElseThrow(() -> new AssertionError(self.name() + " : hôte inconnu « " + host + " » dans " + value));
                }
                int here = ports.computeIfAbsent(target.name() + ":" + containerPort, k -> Ports.freePort());
                m.appendReplacement(out, "127.0.0.1:" + here);
            }
            m.appendTail(out);
            return out.toString();
        }
    }

    private static final List<String> ADDRESS_PROPERTIES = List.of("listeners", "advertised.listeners",
            "controller.quorum.voters", "controller.quorum.bootstrap.servers");

    private static void bootAndTransact(Path composeFile, int expectedNodes) throws Exception {
        String file = composeFile.getFileName().toString();
        List<Service> services = services(composeFile);
        assertEquals(expectedNodes, services.size(), file + " : nombre de services");
        Addresses addresses = new Addresses(services);
        Path data = Files.createTempDirectory("compose-test-");
        List<KafkaRaftServer> servers = new ArrayList<>();
        List<String> bootstrap = new ArrayList<>();
        try {
            List<KafkaConfig> configs = new ArrayList<>();
            for (Service service : services) {
                Map<String, String> props = serverProperties(service.env());
                assertEquals(imageServerProperties(service.env()), props, file + ", " + service.name() + " : traduction des variables KAFKA_*");
                for (String key : ADDRESS_PROPERTIES) {
                    if (props.containsKey(key)) props.put(key, addresses.rewrite(service, props.get(key)));
                }
                Path logDir = data.resolve(service.name());
                props.put("log.dirs", logDir.toString());          // the image's is a path inside the container
                props.put("controlled.shutdown.enable", "false");  // only so that the test's teardown is quick
                Properties p = new Properties();
                p.putAll(props);
                KafkaConfig config;
                try {
                    config = KafkaConfig.fromProps(p, false);
                } catch (RuntimeException e) {
                    throw new AssertionError(file + ", service " + service.name() + " : configuration refusée par Kafka : "
                            + e.getMessage() + "\n" + describe(props), e);
                }
                String clusterId = service.env().get("CLUSTER_ID");
                assertTrue(clusterId != null, file + ", " + service.name() + " : CLUSTER_ID manquant (l'image en a besoin pour formater)");
                Files.createDirectories(logDir);
                new Formatter()
                        .setPrintStream(new PrintStream(OutputStream.nullOutputStream()))
                        .setNodeId(config.nodeId())
                        .setClusterId(clusterId)
                        .setDirectories(List.of(logDir.toString()))
                        .setMetadataLogDirectory(logDir.toString())
                        .setControllerListenerName(config.controllerListenerNames().get(0))
                        .setReleaseVersion(MetadataVersion.LATEST_PRODUCTION)
                        .run();
                configs.add(config);
                // the clients' way in: what the service advertises on localhost, a port published to the host
                for (String listener : service.env().getOrDefault("KAFKA_ADVERTISED_LISTENERS", "").split(",")) {
                    String address = listener.substring(listener.indexOf("://") + 3);
                    if (address.startsWith("localhost:")) bootstrap.add(addresses.rewrite(service, address));
                }
            }
            assertEquals(expectedNodes, bootstrap.size(), file + " : une adresse localhost annoncée par nœud");
            List<CompletableFuture<Void>> startups = new ArrayList<>();
            for (int i = 0; i < configs.size(); i++) {
                KafkaRaftServer server = new KafkaRaftServer(configs.get(i), Time.SYSTEM);
                servers.add(server);
                // in parallel: each combined node waits for the controller quorum
                startups.add(CompletableFuture.runAsync(server::startup));
            }
            for (int i = 0; i < startups.size(); i++) {
                try {
                    startups.get(i).get(90, TimeUnit.SECONDS);
                } catch (Exception e) {
                    fail(file + ", service " + services.get(i).name() + " : le nœud n'a pas démarré : " + e, e);
                }
            }
            transact(file, String.join(",", bootstrap), expectedNodes);
        } finally {
            List<CompletableFuture<Void>> stops = new ArrayList<>();
            for (KafkaRaftServer s : servers) {
                stops.add(CompletableFuture.runAsync(() -> { s.shutdown(); s.awaitShutdown(); }));
            }
            for (CompletableFuture<Void> f : stops) {
                try { f.get(60, TimeUnit.SECONDS); } catch (Exception ignored) { }
            }
            Folders.deleteRecursively(data);
        }
    }

    /** The cluster forms, and a committed transaction is read back read_committed while an aborted one is not. */
    private static void transact(String file, String bootstrap, int expectedNodes) throws Exception {
        Properties admin = new Properties();
        admin.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        try (Admin a = Admin.create(admin)) {
            long deadline = System.currentTimeMillis() + 60_000;
            int seen = 0;
            while (System.currentTimeMillis() < deadline) {
                try {
                    seen = a.describeCluster().nodes().get(5, TimeUnit.SECONDS).size();
                    if (seen == expectedNodes) break;
                } catch (Exception notYet) {
                    // not yet
                }
                Thread.sleep(200);
            }
            assertEquals(expectedNodes, seen, file + " : nœuds vus par describeCluster");
            // replication factor, min ISR: the broker defaults the compose file sets
            a.createTopics(List.of(new NewTopic("compose", java.util.Optional.of(1), java.util.Optional.empty()))).all().get(30, TimeUnit.SECONDS);
        }
        Properties producer = new Properties();
        producer.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        producer.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, "compose-test");
        producer.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        producer.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        producer.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, "60000");
        List<String> committed = List.of("c-1", "c-2", "c-3");
        try (KafkaProducer<String, String> p = new KafkaProducer<>(producer)) {
            p.initTransactions();
            p.beginTransaction();
            for (String v : List.of("a-1", "a-2")) p.send(new ProducerRecord<>("compose", v, v));
            p.flush();
            p.abortTransaction();
            p.beginTransaction();
            for (String v : committed) p.send(new ProducerRecord<>("compose", v, v));
            p.commitTransaction();
        }
        Properties consumer = new Properties();
        consumer.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        consumer.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        consumer.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        consumer.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        List<String> read = new ArrayList<>();
        try (KafkaConsumer<String, String> c = new KafkaConsumer<>(consumer)) {
            TopicPartition tp = new TopicPartition("compose", 0);
            c.assign(List.of(tp));
            c.seekToBeginning(List.of(tp));
            long deadline = System.currentTimeMillis() + 30_000;
            while (read.size() < committed.size() && System.currentTimeMillis() < deadline) {
                for (ConsumerRecord<String, String> r : c.poll(Duration.ofMillis(500))) read.add(r.value());
            }
            for (ConsumerRecord<String, String> r : c.poll(Duration.ofMillis(500))) read.add(r.value());
        }
        assertEquals(committed, read, file + " : relu en read_committed (la transaction avortée ne doit pas apparaître)");
    }

    private static String describe(Map<String, String> props) {
        return props.entrySet().stream().map(e -> "  " + e.getKey() + "=" + e.getValue()).collect(Collectors.joining("\n"));
    }
}
