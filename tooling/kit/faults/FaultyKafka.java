package kit.faults;

import kit.broker.EmbeddedKafka;

/** A lab cluster with a fault proxy in front of every node; the brokers advertise the proxies. */
public final class FaultyKafka implements AutoCloseable {

    private final FaultPlan plan = new FaultPlan();
    private final EmbeddedKafka cluster;

    private FaultyKafka(int brokers) {
        this.cluster = EmbeddedKafka.start(new EmbeddedKafka.Options().brokers(brokers).port(0)
                .front((node, listenPort, brokerPort) -> new FaultProxy(listenPort, "127.0.0.1", brokerPort, plan).start()));
    }

    public static FaultyKafka start(int brokers) { return new FaultyKafka(brokers); }

    public String bootstrapServers() { return cluster.bootstrapServers(); }

    public FaultPlan faults() { return plan; }

    public EmbeddedKafka cluster() { return cluster; }

    @Override
    public void close() { cluster.close(); }
}
