package kit.faults;

import kit.broker.EmbeddedKafka;

/**
 * A lab cluster with a fault proxy in front of every node's client listener and a replication gate in front of its
 * inter-broker listener; the brokers advertise both.
 */
public final class FaultyKafka implements AutoCloseable {

    private final FaultPlan plan = new FaultPlan();
    private final Trace trace = new Trace();
    private final KafkaWire wire = new KafkaWire();
    private final ReplicationHold replication = new ReplicationHold();
    private final EmbeddedKafka cluster;

    private FaultyKafka(int brokers, int port) {
        this.cluster = EmbeddedKafka.start(new EmbeddedKafka.Options().brokers(brokers).port(port)
                .front((node, listenPort, brokerPort) -> new FaultProxy(node + 1, listenPort, "127.0.0.1", brokerPort, plan, trace, wire).start())
                .replicationFront((node, listenPort, brokerPort) -> new ReplicationGate(node + 1, listenPort, brokerPort, replication).start()));
    }

    /** {@code brokers} nodes on free ports. */
    public static FaultyKafka start(int brokers) { return new FaultyKafka(brokers, 0); }

    /** {@code brokers} nodes whose proxies listen on {@code port}, {@code port}+1…; 0 picks free ports. */
    public static FaultyKafka start(int brokers, int port) { return new FaultyKafka(brokers, port); }

    public String bootstrapServers() { return cluster.bootstrapServers(); }

    public FaultPlan faults() { return plan; }

    public Trace trace() { return trace; }

    /** Which leaders' followers may not fetch now (fault hold-replication). */
    public ReplicationHold replication() { return replication; }

    /**
     * Holds the followers' fetches from node {@code node} (0: from every node) for {@code ms} ms (0: until released), and
     * returns once no follower Fetch is left inside a held leader: with one node, once the other running nodes' next
     * Fetch waits in its gate (2 s at most); with every node, after 1 s, twice replica.fetch.wait.max.ms (500 ms).
     */
    public void holdReplication(int node, long ms) {
        replication.hold(node, ms);
        try {
            if (node == 0) {
                Thread.sleep(1000);
                return;
            }
            int followers = 0;
            for (int i = 0; i < cluster.size(); i++) if (cluster.isRunning(i) && cluster.nodeId(i) != node) followers++;
            replication.awaitFollowersHeld(node, followers, 2000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    public EmbeddedKafka cluster() { return cluster; }

    @Override
    public void close() { cluster.close(); }
}
