package kit.lab;

import kit.broker.NodeHalts;
import kit.faults.FaultyKafka;


import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalTime;
import java.time.format.DateTimeFormatter;
import java.util.List;

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
            Files.deleteIfExists(tombstone(control.port()));
            kafka = FaultyKafka.start(brokers, kafkaPort);
            lastWords(control.port(), kafka.cluster().logFile());
            LabPage page = new LabPage(control, kafka);
            return new Lab(control.serve(kafka), kafka, page);
        } catch (IOException e) {
            control.close();
            if (kafka != null) kafka.close();
            throw new IllegalStateException("Impossible d'écrire dans " + System.getProperty("java.io.tmpdir") + " : " + e.getMessage(), e);
        } catch (RuntimeException | Error e) {
            // an Error too (a page file missing from the class path): the brokers must not outlive a failed start
            control.close();
            if (kafka != null) kafka.close();
            throw e;
        }
    }

    /** Where a lab that Kafka halted leaves its last words for ./jbang fault: the same machine, the same control port. */
    public static Path tombstone(int controlPort) {
        return Path.of(System.getProperty("java.io.tmpdir"), "kafka-semantiques-labo-" + controlPort + ".mort");
    }

    /**
     * Kafka ends the JVM on a fatal fault (a node's controller or metadata loader in a state it can't trust) outside a
     * node's own stop (see NodeHalts): the lab still dies, but first says so in French, in its terminal and in its tombstone.
     */
    private static void lastWords(int controlPort, Path logFile) {
        NodeHalts.onFatal((code, message) -> say(controlPort, logFile, code, message));
    }

    private static void say(int controlPort, Path logFile, int code, String message) {
        String fatal = lastFatalLine(logFile);
        String words = "sa JVM s'est arrêtée à " + LocalTime.now().format(DateTimeFormatter.ofPattern("HH:mm:ss"))
                + " : Kafka y a rencontré une erreur fatale et l'a arrêtée (code " + code + ")"
                + (message != null ? " : " + message : "") + (fatal != null ? " ; dernière erreur fatale : « " + fatal + " »" : "")
                + ". Journaux de Kafka : " + logFile + ". Relancez-le : ./jbang broker --faults.";
        System.err.println("✘ Le labo ne répond plus : " + words);
        try {
            Files.writeString(tombstone(controlPort), words, StandardCharsets.UTF_8);
        } catch (IOException | RuntimeException ignored) {
            // the terminal has it
        }
    }

    /** ProcessTerminatingFaultHandler logs « Encountered fatal fault: … » just before it halts. */
    private static String lastFatalLine(Path logFile) {
        try {
            List<String> lines = Files.readAllLines(logFile, StandardCharsets.UTF_8);
            for (int i = lines.size() - 1; i >= Math.max(0, lines.size() - 5000); i--) {
                String l = lines.get(i);
                int at = l.indexOf("fatal fault");
                if (at >= 0) return l.substring(Math.max(0, l.indexOf(" - ") + 3));
            }
        } catch (IOException | RuntimeException ignored) {
        }
        return null;
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
