package kit.broker;

import kit.util.Errors;
import kit.util.Folders;
import kit.util.Ports;

//DEPS org.apache.kafka:kafka_2.13:4.4.0

import kafka.server.KafkaConfig;
import kafka.server.KafkaRaftServer;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.common.utils.Time;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.metadata.storage.Formatter;
import org.apache.kafka.server.common.MetadataVersion;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

/** A real Apache Kafka KRaft cluster (1 or 3 combined broker+controller nodes) running inside this JVM. */
public final class EmbeddedKafka implements AutoCloseable {

    /** Starts something (a fault proxy) listening on {@code listenPort} that forwards to the broker's {@code brokerPort}. */
    @FunctionalInterface
    public interface Front {
        AutoCloseable open(int nodeIndex, int listenPort, int brokerPort) throws IOException;
    }

    /** How to build the cluster. */
    public static final class Options {
        int brokers = 1;
        int port = 9092;
        Path dataDir;
        Front front;
        Front replicationFront;

        public Options brokers(int n) { this.brokers = n; return this; }
        /** First client port; node i listens on port + i. 0 picks free ports. */
        public Options port(int p) { this.port = p; return this; }
        /** Keep data here across restarts; null means a temporary directory removed on close. */
        public Options dataDir(Path d) { this.dataDir = d; return this; }
        /** Put something (the fault proxy) in front of each node's client listener; the broker advertises it. */
        public Options front(Front f) { this.front = f; return this; }
        /**
         * Put something (the replication gate) in front of each node's inter-broker listener, the one followers fetch
         * from; the broker advertises it.
         */
        public Options replicationFront(Front f) { this.replicationFront = f; return this; }
    }

    /** A clear, French, user-facing reason why the cluster can't start. */
    public static final class StartException extends RuntimeException {
        public StartException(String message) { super(message); }
    }

    private final Options options;
    private final Path dataDir;
    private final boolean temporary;
    private final List<Node> nodes = new ArrayList<>();
    private final String clusterId;
    private final Path logFile;

    private static final class Node {
        final int id;
        final int clientPort;      // what clients are told (advertised)
        final int brokerPort;      // where the broker really listens for clients
        final int internalPort;    // inter-broker traffic (followers fetch here): what the brokers are told (advertised)
        final int internalBrokerPort; // where the broker really listens for it (another port behind a replication front)
        final int controllerPort;
        final Path logDir;
        KafkaRaftServer server;
        AutoCloseable front;
        AutoCloseable replicationFront;
        Node(int id, int clientPort, int brokerPort, int internalPort, int internalBrokerPort, int controllerPort, Path logDir) {
            this.id = id; this.clientPort = clientPort; this.brokerPort = brokerPort; this.internalPort = internalPort;
            this.internalBrokerPort = internalBrokerPort; this.controllerPort = controllerPort; this.logDir = logDir;
        }
    }

    private EmbeddedKafka(Options options) {
        this.options = options;
        NodeHalts.install();
        if (options.brokers != 1 && options.brokers != 3) {
            throw new StartException("Nombre de brokers non pris en charge : " + options.brokers + " (choisissez 1 ou 3).");
        }
        this.temporary = options.dataDir == null;
        try {
            this.dataDir = temporary ? Files.createTempDirectory("kafka-semantiques-") : prepareDataDir(options.dataDir);
        } catch (IOException e) {
            throw new StartException("Impossible de créer un répertoire temporaire pour les données : " + e.getMessage());
        }
        this.clusterId = clusterId(dataDir, options.brokers);
        this.logFile = KafkaLogs.open(dataDir);
    }

    /** Starts the cluster and waits until every node answers clients. */
    public static EmbeddedKafka start(Options options) {
        EmbeddedKafka cluster = new EmbeddedKafka(options);
        try {
            cluster.startAll();
            return cluster;
        } catch (RuntimeException e) {
            cluster.close();
            throw e;
        }
    }

    public static EmbeddedKafka start() { return start(new Options().port(0)); }

    public String bootstrapServers() {
        return nodes.stream().map(n -> "localhost:" + n.clientPort).collect(Collectors.joining(","));
    }

    /**
     * The nodes' inter-broker listener: for the kit's own tools that must see the cluster without going through the
     * fault proxies (the lab's page), so that they neither show up in the trace nor suffer its faults (the replication
     * gate, if any, holds only followers' fetches).
     */
    public String internalBootstrapServers() {
        return nodes.stream().map(n -> "127.0.0.1:" + n.internalPort).collect(Collectors.joining(","));
    }

    public int size() { return nodes.size(); }

    public int clientPort(int nodeIndex) { return nodes.get(nodeIndex).clientPort; }

    public int nodeId(int nodeIndex) { return nodes.get(nodeIndex).id; }

    /** The node's KRaft controller listener (for tests). */
    int controllerPort(int nodeIndex) { return nodes.get(nodeIndex).controllerPort; }

    /** The index (for stopNode/restartNode) of the node with this id. */
    public int indexOf(int nodeId) {
        for (int i = 0; i < nodes.size(); i++) if (nodes.get(i).id == nodeId) return i;
        throw new IllegalArgumentException("nœud " + nodeId + " inconnu");
    }

    public Path dataDir() { return dataDir; }

    /** Kafka's own log (INFO and up, whatever -v says): {@code <data-dir>/logs/kafka.log}. */
    public Path logFile() { return logFile; }

    public boolean isRunning(int nodeIndex) { return nodes.get(nodeIndex).server != null; }

    /**
     * The log end offset and high watermark of this node's own replica of {@code partition}, read in the node itself
     * (no Kafka API gives a follower's log end offset); empty if the node is stopped or has no replica of it.
     */
    public java.util.Optional<long[]> replicaOffsets(int nodeIndex, org.apache.kafka.common.TopicPartition partition) {
        KafkaRaftServer server = nodes.get(nodeIndex).server;
        if (server == null) return java.util.Optional.empty();
        try {
            // KafkaRaftServer keeps its BrokerServer in a private field: the embedded cluster is the one place that reaches it
            java.lang.reflect.Field f = KafkaRaftServer.class.getDeclaredField("broker");
            f.setAccessible(true);
            scala.Option<?> broker = (scala.Option<?>) f.get(server);
            if (broker.isEmpty()) return java.util.Optional.empty();
            return ((kafka.server.BrokerServer) broker.get()).logManager().getLog(partition)
                    .map(log -> new long[] {log.logEndOffset(), log.highWatermark()});
        } catch (ReflectiveOperationException | RuntimeException e) {
            return java.util.Optional.empty();
        }
    }

    /** Stops one node as a crash would: the others notice within the session timeout and take over its partitions. */
    public void stopNode(int nodeIndex) {
        Node n = nodes.get(nodeIndex);
        if (n.server == null) return;
        NodeHalts.stopping(n.id);
        try {
            n.server.shutdown();
            n.server.awaitShutdown();
        } finally {
            NodeHalts.stopDone();
        }
        n.server = null;
    }

    /**
     * Stops one node as a power cut would: besides skipping the controlled shutdown, the clean-shutdown marker is
     * removed, so that at restart the node runs log recovery as after a real crash.
     */
    public void crashNode(int nodeIndex) {
        stopNode(nodeIndex);
        try (var files = Files.walk(nodes.get(nodeIndex).logDir, 1)) {
            files.filter(f -> f.getFileName().toString().equals(".kafka_cleanshutdown")).forEach(f -> {
                try { Files.deleteIfExists(f); } catch (IOException ignored) { }
            });
        } catch (IOException ignored) {
        }
    }

    /**
     * Restarts a stopped node on the same ports and data, and waits until it is back in the cluster. Its ports must be
     * free again: Kafka's controller treats a listener it cannot bind at startup as a fatal fault and halts the whole
     * JVM (« Received a fatal error while waiting for all of the SocketServer Acceptors to be started »).
     */
    public void restartNode(int nodeIndex) {
        Node n = nodes.get(nodeIndex);
        if (n.server != null) return;
        awaitPortsFree(n, 10_000);
        NodeHalts.starting(n.id);
        KafkaRaftServer server = new KafkaRaftServer(KafkaConfig.fromProps(config(n), false), Time.SYSTEM);
        try {
            server.startup();
        } catch (RuntimeException e) {
            // a half-started node is a stopped one: it can be started again
            try { server.shutdown(); } catch (RuntimeException ignored) { }
            throw new StartException("Le nœud " + n.id + " n'a pas redémarré : " + Errors.rootMessage(e));
        }
        n.server = server;
        awaitReady(nodes.size(), 30_000);
    }

    @Override
    public void close() {
        List<CompletableFuture<Void>> stops = new ArrayList<>();
        for (int i = 0; i < nodes.size(); i++) {
            int index = i;
            // all at once: a node stopped last would wait for a quorum that is already gone
            stops.add(CompletableFuture.runAsync(() -> stopNode(index)));
        }
        stops.forEach(f -> { try { f.get(60, TimeUnit.SECONDS); } catch (Exception ignored) { } });
        for (Node n : nodes) {
            for (AutoCloseable f : java.util.Arrays.asList(n.front, n.replicationFront)) {
                if (f == null) continue;
                try { f.close(); } catch (Exception ignored) { }
            }
        }
        KafkaLogs.close(logFile);
        if (temporary) Folders.deleteRecursively(dataDir);
    }

    // ---------------------------------------------------------------------------------------

    private void startAll() {
        int n = options.brokers;
        List<Integer> clientPorts = new ArrayList<>();
        // a node's ports are listened on again when it restarts: taken below the ephemeral range, where no outgoing
        // connection can grab them while it is down (a taken port makes Kafka halt the JVM at the restart, see restartNode)
        java.util.Set<Integer> chosen = new java.util.HashSet<>();
        java.util.function.IntSupplier stable = () -> {
            int p;
            do { p = Ports.freeStablePort(); } while (!chosen.add(p));
            return p;
        };
        for (int i = 0; i < n; i++) {
            int p = options.port == 0 ? stable.getAsInt() : options.port + i;
            if (options.port != 0) ensurePortFree(p);
            chosen.add(p);
            clientPorts.add(p);
        }
        for (int i = 0; i < n; i++) {
            int clientPort = clientPorts.get(i);
            int brokerPort = options.front == null ? clientPort : stable.getAsInt();
            int internalPort = stable.getAsInt();
            int internalBrokerPort = options.replicationFront == null ? internalPort : stable.getAsInt();
            nodes.add(new Node(i + 1, clientPort, brokerPort, internalPort, internalBrokerPort, stable.getAsInt(), dataDir.resolve("node-" + (i + 1))));
        }
        for (Node node : nodes) format(node);
        if (options.replicationFront != null) {
            // before the brokers: a follower's first fetch goes through its leader's gate
            for (Node node : nodes) {
                try {
                    node.replicationFront = options.replicationFront.open(node.id - 1, node.internalPort, node.internalBrokerPort);
                } catch (IOException e) {
                    throw new StartException("Impossible d'ouvrir le port " + node.internalPort + " : " + e.getMessage());
                }
            }
        }
        List<CompletableFuture<Void>> startups = new ArrayList<>();
        for (Node node : nodes) {
            node.server = new KafkaRaftServer(KafkaConfig.fromProps(config(node), false), Time.SYSTEM);
            KafkaRaftServer s = node.server;
            // in parallel: a combined node waits for a controller quorum before it is up
            startups.add(CompletableFuture.runAsync(s::startup));
        }
        for (CompletableFuture<Void> f : startups) {
            try {
                f.get(60, TimeUnit.SECONDS);
            } catch (Exception e) {
                throw new StartException("Le broker n'a pas démarré : " + Errors.rootMessage(e));
            }
        }
        if (options.front != null) {
            for (Node node : nodes) {
                try {
                    node.front = options.front.open(node.id - 1, node.clientPort, node.brokerPort);
                } catch (IOException e) {
                    throw new StartException("Impossible d'ouvrir le port " + node.clientPort + " : " + e.getMessage());
                }
            }
        }
        awaitReady(n, 30_000);
    }

    /** A node's own listeners, free again after its stop; a French StartException rather than Kafka's halt if one stays taken. */
    private void awaitPortsFree(Node n, long timeoutMs) {
        long deadline = System.currentTimeMillis() + timeoutMs;
        // with a front, the client port is the front's, which stays open; without, it is the broker port
        List<Integer> ports = List.of(n.brokerPort, n.internalBrokerPort, n.controllerPort);
        while (true) {
            List<Integer> taken = ports.stream().filter(p -> !Ports.isFree(p)).toList();
            if (taken.isEmpty()) return;
            if (System.currentTimeMillis() > deadline) {
                throw new StartException("Le nœud " + n.id + " ne peut pas redémarrer : son port " + taken.get(0) + " est pris par un autre "
                        + "programme depuis son arrêt. Réessayez dans un moment, ou redémarrez le cluster.");
            }
            sleep(200);
        }
    }

    private Properties config(Node node) {
        int n = options.brokers;
        Properties p = new Properties();
        p.put("process.roles", "broker,controller");
        p.put("node.id", String.valueOf(node.id));
        p.put("controller.quorum.voters", nodes.stream()
                .map(x -> x.id + "@127.0.0.1:" + x.controllerPort).collect(Collectors.joining(",")));
        p.put("listeners", "CLIENT://127.0.0.1:" + node.brokerPort + ",INTERNAL://127.0.0.1:" + node.internalBrokerPort
                + ",CONTROLLER://127.0.0.1:" + node.controllerPort);
        p.put("advertised.listeners", "CLIENT://localhost:" + node.clientPort + ",INTERNAL://127.0.0.1:" + node.internalPort);
        p.put("listener.security.protocol.map", "CLIENT:PLAINTEXT,INTERNAL:PLAINTEXT,CONTROLLER:PLAINTEXT");
        p.put("inter.broker.listener.name", "INTERNAL");
        p.put("controller.listener.names", "CONTROLLER");
        p.put("log.dirs", node.logDir.toString());
        // a single node needs RF 1 / min ISR 1 for internal topics, or initTransactions() hangs for 60 s
        String rf = String.valueOf(n);
        String minIsr = n == 1 ? "1" : "2";
        p.put("offsets.topic.replication.factor", rf);
        p.put("transaction.state.log.replication.factor", rf);
        p.put("transaction.state.log.min.isr", minIsr);
        p.put("share.coordinator.state.topic.replication.factor", rf);
        p.put("share.coordinator.state.topic.min.isr", minIsr);
        p.put("default.replication.factor", rf);
        // with 3 nodes acks=all means "at least 2 copies"
        p.put("min.insync.replicas", minIsr);
        // a lab broker: fast group joins and few internal partitions to create
        p.put("group.initial.rebalance.delay.ms", "0");
        // KIP-848 consumers (group.protocol=consumer): a crashed member is declared dead after 10 s, as the scripts'
        // session.timeout.ms does for the classic protocol (Kafka's defaults: 45 s, and no less than 45 s)
        p.put("group.consumer.session.timeout.ms", "10000");
        p.put("group.consumer.min.session.timeout.ms", "6000");
        // share groups (KIP-932): a group may lock a record for as little as 1 s (Kafka's floor: 15 s), so that the lessons on
        // expired locks take seconds; the default lock stays Kafka's 30 s, a group sets its own through Admin
        // (share.record.lock.duration.ms). Members heartbeat every second (Kafka: 5 s) so that a new one gets its share at once
        p.put("group.share.min.record.lock.duration.ms", "1000");
        p.put("group.share.heartbeat.interval.ms", "1000");
        p.put("group.share.min.heartbeat.interval.ms", "1000");
        p.put("share.coordinator.state.topic.num.partitions", "5");
        p.put("offsets.topic.num.partitions", "5");
        p.put("transaction.state.log.num.partitions", "5");
        p.put("num.partitions", "1");
        p.put("auto.create.topics.enable", "true");
        // a stopped node behaves like a crashed one: the controller fences it after the session timeout
        // and elects new leaders (controlled shutdown would wait up to 5 min for a quorum at close)
        p.put("controlled.shutdown.enable", "false");
        p.put("broker.session.timeout.ms", "3000");
        p.put("broker.heartbeat.interval.ms", "500");
        p.put("unclean.leader.election.enable", "false");
        // a follower that has not caught up with its leader for 10 s leaves the ISR (Kafka's default: 30 s), so that the
        // durability lesson (notebook 08, tour --scenario durabilite) shows the ISR shrink in seconds
        p.put("replica.lag.time.max.ms", "10000");
        return p;
    }

    private void format(Node node) {
        if (Files.exists(node.logDir.resolve("meta.properties"))) return; // kept from an earlier run
        try {
            Files.createDirectories(node.logDir);
            new Formatter()
                    .setPrintStream(new PrintStream(OutputStream.nullOutputStream()))
                    .setNodeId(node.id)
                    .setClusterId(clusterId)
                    .setDirectories(List.of(node.logDir.toString()))
                    .setMetadataLogDirectory(node.logDir.toString())
                    .setControllerListenerName("CONTROLLER")
                    .setReleaseVersion(MetadataVersion.LATEST_PRODUCTION)
                    .run();
        } catch (Exception e) {
            throw new StartException("Formatage du stockage Kafka impossible dans " + node.logDir + " : " + Errors.rootMessage(e));
        }
    }

    private void awaitReady(int expectedNodes, long timeoutMs) {
        Properties p = new Properties();
        p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers());
        p.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, "2000");
        p.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "3000");
        long deadline = System.currentTimeMillis() + timeoutMs;
        try (Admin admin = Admin.create(p)) {
            while (true) {
                try {
                    if (admin.describeCluster().nodes().get(3, TimeUnit.SECONDS).size() >= expectedNodes) return;
                } catch (Exception e) {
                    // not yet
                }
                if (System.currentTimeMillis() > deadline) {
                    throw new StartException("Le cluster n'est pas prêt après " + timeoutMs / 1000 + " s.");
                }
                sleep(100);
            }
        }
    }

    private static Path prepareDataDir(Path dir) {
        try {
            Files.createDirectories(dir);
        } catch (IOException | SecurityException e) {
            throw new StartException("Le répertoire de données « " + dir + " » ne peut pas être créé : " + e.getMessage()
                    + ". Choisissez un autre --data-dir.");
        }
        if (!Files.isDirectory(dir) || !Files.isWritable(dir)) {
            throw new StartException("Le répertoire de données « " + dir + " » n'est pas accessible en écriture."
                    + " Choisissez un autre --data-dir.");
        }
        return dir.toAbsolutePath();
    }

    /** Reuses the cluster id saved in a kept data directory, so a restart finds its data again. */
    private static String clusterId(Path dir, int brokers) {
        Path file = dir.resolve("kit-cluster.properties");
        Properties saved = new Properties();
        try {
            if (Files.exists(file)) {
                try (var in = Files.newInputStream(file)) { saved.load(in); }
                String savedBrokers = saved.getProperty("brokers", "1");
                if (!savedBrokers.equals(String.valueOf(brokers))) {
                    throw new StartException("Le répertoire « " + dir + " » contient un cluster de " + savedBrokers
                            + " broker(s), pas " + brokers + ". Utilisez --brokers " + savedBrokers + " ou un autre --data-dir.");
                }
                return saved.getProperty("cluster.id");
            }
            saved.setProperty("cluster.id", Uuid.randomUuid().toString());
            saved.setProperty("brokers", String.valueOf(brokers));
            try (var out = Files.newOutputStream(file)) { saved.store(out, "kafka-semantiques"); }
            return saved.getProperty("cluster.id");
        } catch (IOException e) {
            throw new StartException("Le répertoire de données « " + dir + " » n'est pas utilisable : " + e.getMessage());
        }
    }

    /** Fails fast, in French, when a port is taken (another broker, docker compose...). */
    static void ensurePortFree(int port) {
        try (ServerSocket s = new ServerSocket()) {
            s.setReuseAddress(true);
            s.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
        } catch (IOException e) {
            throw new PortInUseException(port);
        }
    }

    /** The port a node wants is already taken. */
    public static final class PortInUseException extends RuntimeException {
        public final int port;
        PortInUseException(int port) {
            super("Le port " + port + " est déjà utilisé.");
            this.port = port;
        }
    }

    private static void sleep(long ms) {
        try { Thread.sleep(ms); } catch (InterruptedException e) { Thread.currentThread().interrupt(); throw new StartException("interrompu"); }
    }
}
