package kit.lab;

import kit.faults.FaultyKafka;

/** The lab: a real cluster with the fault proxy in front of each node, its control API, and its page on the projector. */
public final class Lab implements AutoCloseable {

    private final LabControl control;
    private final FaultyKafka kafka;
    private final LabPage page;

    private Lab(LabControl control, FaultyKafka kafka, LabPage page) {
        this.control = control;
        this.kafka = kafka;
        this.page = page;
    }

    /**
     * {@code brokers} nodes whose proxies listen on {@code kafkaPort}, {@code kafkaPort}+1…, and the control API on
     * {@code controlPort}; 0 picks free ports. The control port is bound first: a busy one fails before Kafka starts.
     */
    public static Lab start(int brokers, int kafkaPort, int controlPort) { return start(brokers, kafkaPort, controlPort, null); }

    /**
     * The same, with the control API and the page on {@code listen} (null: loopback only; any other address asks for
     * the lab's token, {@link #token()}). The Kafka proxies stay on loopback: the brokers advertise localhost.
     */
    public static Lab start(int brokers, int kafkaPort, int controlPort, java.net.InetAddress listen) {
        LabControl control = new LabControl(controlPort, listen);
        FaultyKafka kafka = null;
        try {
            // PlantUML takes seconds to load its first diagram: pay that while the brokers start, not in a notebook
            Thread warmUp = new Thread(() -> TraceDiagram.svg(java.util.List.of(), "labo"), "labo-diagramme");
            warmUp.setDaemon(true);
            warmUp.start();
            kafka = FaultyKafka.start(brokers, kafkaPort);
            LabPage page = new LabPage(control, kafka);
            return new Lab(control.serve(kafka), kafka, page);
        } catch (RuntimeException | Error e) {
            // an Error too (a page file missing from the class path): the brokers must not outlive a failed start
            control.close();
            if (kafka != null) kafka.close();
            throw e;
        }
    }

    public String bootstrapServers() { return kafka.bootstrapServers(); }

    public String controlUrl() { return control.url(); }

    /** The token the control API and the page ask for (the lab listens beyond loopback), or null. */
    public String token() { return control.token(); }

    public FaultyKafka kafka() { return kafka; }

    public LabControl control() { return control; }

    /** The page on the projector, at {@link #controlUrl()}/. */
    public LabPage page() { return page; }

    @Override
    public void close() {
        page.close();
        control.close();
        kafka.close();
    }
}
