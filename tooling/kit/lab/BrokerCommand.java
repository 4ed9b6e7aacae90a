package kit.lab;

import kit.broker.EmbeddedKafka;
import kit.broker.KafkaLogs;
import kit.broker.KafkaProbe;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;

/** ./jbang broker : a real Kafka 4.4.0 broker (KRaft) for the lab, on localhost:9092. */
@Command(name = "broker", mixinStandardHelpOptions = true,
        description = {"Démarre un vrai broker Apache Kafka 4.4.0 (KRaft, sans Docker) sur localhost.",
                "Ctrl-C pour l'arrêter."})
public final class BrokerCommand implements Callable<Integer> {

    @Option(names = "--brokers", defaultValue = "1", description = "Nombre de nœuds : 1 ou 3 (défaut : ${DEFAULT-VALUE}).")
    int brokers;

    @Option(names = {"-p", "--port"}, defaultValue = "9092", description = "Port du premier nœud (défaut : ${DEFAULT-VALUE}).")
    int port;

    @Option(names = "--data-dir", description = "Garde les données dans ce répertoire d'un lancement à l'autre (défaut : répertoire temporaire effacé à l'arrêt).")
    Path dataDir;

    @Option(names = "--faults", description = "Démarre le labo : le proxy de pannes devant chaque nœud, piloté par ./jbang fault "
            + "ou par l'API HTTP (voir docs/LABO.md).")
    boolean faults;

    @Option(names = "--control-port", defaultValue = "9099", description = "Avec --faults : port de l'API de contrôle (défaut : ${DEFAULT-VALUE}).")
    int controlPort;

    @Option(names = "--listen", paramLabel = "ADRESSE",
            description = "Avec --faults : ouvre l'API de contrôle et la page à d'autres machines, sur cette adresse (0.0.0.0 : toutes) ; "
                    + "elles demandent alors le jeton affiché au démarrage. Kafka reste sur localhost. Défaut : 127.0.0.1 seulement.")
    String listen;

    @Option(names = "-v", description = "Affiche les journaux du broker (-v : info, -vv : debug).")
    boolean[] verbose = new boolean[0];

    @Override
    public Integer call() throws Exception {
        KafkaLogs.verbosity(verbose.length);
        if (brokers != 1 && brokers != 3) {
            System.err.println("Erreur : --brokers doit valoir 1 ou 3 (reçu : " + brokers + ").");
            return 2;
        }
        if (port < 1 || port + brokers - 1 > 65535) {
            System.err.println("Erreur : port invalide : " + port + ".");
            return 2;
        }
        if (faults && (controlPort < 1 || controlPort > 65535)) {
            System.err.println("Erreur : port de contrôle invalide : " + controlPort + ".");
            return 2;
        }
        java.net.InetAddress listenAddress = null;
        if (listen != null) {
            if (!faults) {
                System.err.println("Erreur : --listen ne va qu'avec --faults (il ouvre l'API de contrôle et la page du labo).");
                return 2;
            }
            try {
                listenAddress = java.net.InetAddress.getByName(listen);
            } catch (java.net.UnknownHostException e) {
                System.err.println("Erreur : adresse inconnue pour --listen : « " + listen + " » (par exemple 0.0.0.0 ou 192.168.1.10).");
                return 2;
            }
        }
        if (faults && dataDir != null) {
            System.err.println("Erreur : --data-dir ne va pas avec --faults : le labo repart d'un cluster neuf à chaque lancement.");
            return 2;
        }
        long t0 = System.nanoTime();
        AutoCloseable cluster;
        String bootstrap;
        Path logFile;
        String kept = "";
        String labUrl = null;
        String token = null;
        try {
            if (faults) {
                Lab lab = Lab.start(brokers, port, controlPort, listenAddress);
                labUrl = lab.controlUrl();
                token = lab.token();
                cluster = lab;
                bootstrap = lab.bootstrapServers();
                logFile = lab.kafka().cluster().logFile();
            } else {
                EmbeddedKafka kafka = EmbeddedKafka.start(new EmbeddedKafka.Options().brokers(brokers).port(port).dataDir(dataDir));
                cluster = kafka;
                bootstrap = kafka.bootstrapServers();
                logFile = kafka.logFile();
                kept = dataDir != null ? ", données dans " + kafka.dataDir() : "";
            }
        } catch (LabControl.PortInUseException | LabControl.ListenException e) {
            System.err.println("Erreur : " + e.getMessage());
            return 1;
        } catch (EmbeddedKafka.PortInUseException e) {
            String who = KafkaProbe.describe("localhost:" + e.port);
            if (who != null) {
                System.err.println("Un broker Kafka tourne déjà sur localhost:" + e.port + " (" + who + ") : inutile d'en lancer un second.");
                System.err.println("Pour un second broker, choisissez un autre port : ./jbang broker --port " + (port + 10));
            } else {
                System.err.println("Erreur : le port " + e.port + " est déjà utilisé par un autre programme.");
                System.err.println("Choisissez un autre port : ./jbang broker --port " + (port + 10));
            }
            return 1;
        } catch (EmbeddedKafka.StartException e) {
            System.err.println("Erreur : " + e.getMessage());
            return 1;
        }
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            System.out.println("\nArrêt du broker...");
            try { cluster.close(); } catch (Exception ignored) { }
            System.out.println("Broker arrêté.");
            stopped.countDown();
        }, "arret-broker"));
        double seconds = (System.nanoTime() - t0) / 1e9;
        if (faults && token == null) {
            System.out.printf("✔ Labo prêt : Kafka 4.4.0 sur %s à travers le proxy de pannes (%d nœud%s, %.1f s), "
                            + "contrôle sur %s (./jbang fault --help), page du labo sur %s/. Ctrl-C pour arrêter. Journaux de Kafka : %s%n",
                    bootstrap, brokers, brokers > 1 ? "s" : "", seconds, labUrl, labUrl, logFile);
        } else if (faults) {
            String page = (listenAddress.isAnyLocalAddress() ? "http://" + reachableHost() + ":" + controlPort : labUrl) + "/?token=" + token;
            System.out.printf("✔ Labo prêt : Kafka 4.4.0 sur %s à travers le proxy de pannes (%d nœud%s, %.1f s), "
                            + "contrôle sur %s (./jbang fault --help), page du labo sur %s , jeton %s "
                            + "(./jbang fault --token, ou KAFKA_LAB_TOKEN). Ctrl-C pour arrêter. Journaux de Kafka : %s%n",
                    bootstrap, brokers, brokers > 1 ? "s" : "", seconds, labUrl, page, token, logFile);
        } else {
            System.out.printf("✔ Kafka 4.4.0 prêt sur %s (%d nœud%s KRaft, démarré en %.1f s%s). Ctrl-C pour arrêter. Journaux de Kafka : %s%n",
                    bootstrap, brokers, brokers > 1 ? "s" : "", seconds, kept, logFile);
        }
        stopped.await();
        return 0;
    }

    /** This machine's first IPv4 address others can reach (not loopback), for the page's link; else its name. */
    private static String reachableHost() {
        try {
            for (var nic : java.util.Collections.list(java.net.NetworkInterface.getNetworkInterfaces())) {
                if (!nic.isUp() || nic.isLoopback()) continue;
                for (var a : java.util.Collections.list(nic.getInetAddresses())) {
                    if (a instanceof java.net.Inet4Address && !a.isLoopbackAddress() && !a.isLinkLocalAddress()) return a.getHostAddress();
                }
            }
            return java.net.InetAddress.getLocalHost().getHostName();
        } catch (java.io.IOException e) {
            return "localhost";
        }
    }
}
