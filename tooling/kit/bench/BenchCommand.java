package kit.bench;

import kit.broker.EmbeddedKafka;
import kit.faults.FaultyKafka;
import kit.broker.KafkaProbe;
import kit.run.JBang;
import kit.run.Program;
import kit.run.ScriptRunner;
import kit.run.Topics;
import kit.util.Folders;

//DEPS org.knowm.xchart:xchart:3.8.8

import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.Callable;

/** ./jbang bench : what each guarantee costs, the kit's loops beside Kafka's own ProducerPerformance, with a chart. */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = {"Mesure le coût de chaque garantie : débit et latence des producteurs (acks=0, at-least-once, idempotent, "
                + "transactionnel 10/100/1000 ms), à côté de ProducerPerformance de Kafka avec la même config ; "
                + "consommateurs read_uncommitted contre read_committed.",
                "Écrit bench.csv et bench.png avec --out."})
public final class BenchCommand implements Callable<Integer> {

    @Option(names = "--quick", description = "Version courte (< 1 min) : peu de messages, une répétition.")
    boolean quick;

    @Option(names = "--count", description = "Messages par mesure (défaut : 200000, ou 10000 avec --quick).")
    Integer count;

    @Option(names = "--sizes", split = ",", defaultValue = "100,1024", description = "Tailles des messages en octets (défaut : ${DEFAULT-VALUE}).")
    List<Integer> sizes;

    @Option(names = "--repetitions", description = "Répétitions de chaque mesure ; on garde la médiane (défaut : 3, ou 1 avec --quick).")
    Integer repetitions;

    @Option(names = "--brokers", defaultValue = "1", description = "Nœuds du broker embarqué : 1 ou 3 (défaut : ${DEFAULT-VALUE}).")
    int brokers;

    @Option(names = "--faults", description = "Mesure à travers le proxy de pannes du labo (sans panne armée) : ce que coûte le labo.")
    boolean throughLab;

    @Option(names = "--bootstrap-server", description = "Un cluster existant plutôt que le broker embarqué.")
    String bootstrap;

    @Option(names = "--out", paramLabel = "DOSSIER", description = "Écrit bench.csv et bench.png dans ce dossier.")
    Path out;

    @Option(names = "--base", description = "Mesure seulement la base de données : le temps de démarrage de ./jbang db, et les lignes/s "
            + "de ConsumerDbExactlyOnce contre ConsumerDbAtLeastOnce (même broker, même base, même entrée ; --count messages, "
            + "défaut 2000, 500 avec --quick).")
    boolean base;

    @Spec
    CommandSpec spec;

    /** One line of the table and the CSV. */
    record Row(String configuration, int size, Bench.Stats kit, Bench.Stats reference) {
        String ratio() { return reference == null ? "" : String.format(Locale.ROOT, "%.2f", kit.recordsPerSec() / reference.recordsPerSec()); }
    }

    @Override
    public Integer call() throws Exception {
        int n = count != null ? count : quick ? 10_000 : 200_000;
        int reps = repetitions != null ? repetitions : quick ? 1 : 3;
        if (n < 100) throw new ParameterException(spec.commandLine(), "--count doit valoir au moins 100");
        if (reps < 1 || reps > 20) throw new ParameterException(spec.commandLine(), "--repetitions doit être entre 1 et 20");
        if (brokers != 1 && brokers != 3) throw new ParameterException(spec.commandLine(), "--brokers vaut 1 ou 3");
        for (int s : sizes) if (s < 1 || s > 1_000_000) throw new ParameterException(spec.commandLine(), "taille de message invalide : " + s);
        if (out != null) {
            String problem = Folders.writableFolderProblem(out, "--out");   // before a minute of measuring, not after
            if (problem != null) throw new ParameterException(spec.commandLine(), problem);
        }
        long t0 = System.nanoTime();
        if (!base) System.out.println("Référence : ProducerPerformance de " + Bench.TOOLS_GAV + ", dans sa propre JVM.");
        String classpath = base ? null : referenceClasspath();
        AutoCloseable cluster = null;
        String servers = bootstrap;
        if (servers == null) {
            System.out.println("Démarrage d'un broker Kafka 4.4.0 embarqué (" + brokers + " nœud(s))...");
            if (throughLab) {
                FaultyKafka lab = FaultyKafka.start(brokers);
                cluster = lab;
                servers = lab.bootstrapServers();
                System.out.println("(à travers le proxy de pannes du labo)");
            } else {
                EmbeddedKafka kafka = EmbeddedKafka.start(new EmbeddedKafka.Options().brokers(brokers).port(0));
                cluster = kafka;
                servers = kafka.bootstrapServers();
            }
        } else {
            if (KafkaProbe.describe(servers) == null) {
                throw new ParameterException(spec.commandLine(), "aucun broker Kafka ne répond sur " + servers);
            }
        }
        if (base) {
            try {
                int records = count != null ? count : quick ? 500 : 2000;
                DbBench.Result r = DbBench.measure(servers, records, System.out::println);
                System.out.printf(Locale.ROOT, "./jbang db prêt en %.1f s depuis le lancement de sa JVM (son propre chiffre : %s)%n",
                        r.launchToReady().toMillis() / 1000.0, r.readyLine().replaceAll(".*\\((démarré en [^)]*)\\).*", "$1"));
                for (DbBench.Rate rate : List.of(r.atLeastOnce(), r.exactlyOnce())) {
                    System.out.printf(Locale.ROOT, "%-22s %6d lignes en %6.1f s : %7.0f lignes/s%n", rate.script(), rate.rows(), rate.seconds(),
                            rate.rowsPerSec());
                }
                System.out.printf(Locale.ROOT, "ConsumerDbExactlyOnce / ConsumerDbAtLeastOnce : %.1f fois les lignes/s%n", r.ratio());
            } finally {
                if (cluster != null) cluster.close();
            }
            System.out.printf("Durée : %.0f s%n", (System.nanoTime() - t0) / 1e9);
            return 0;
        }
        try {
            List<Row> rows = measure(servers, n, reps, classpath);
            print(rows);
            if (out != null) {
                try {
                    Files.writeString(out.resolve("bench.csv"), csv(rows));
                    chart(rows, out.resolve("bench.png"));
                } catch (IOException e) {
                    throw new IOException("écriture impossible dans le dossier --out « " + out + " »" + Folders.reason(e) + ".", e);
                }
                System.out.println("Écrit : " + out.resolve("bench.csv") + " et " + out.resolve("bench.png"));
            }
        } finally {
            if (cluster != null) cluster.close();
        }
        System.out.printf("Durée : %.0f s%n", (System.nanoTime() - t0) / 1e9);
        return 0;
    }

    private List<Row> measure(String servers, int n, int reps, String classpath) throws Exception {
        // --quick checks that everything runs: both sides start C1-only JVMs, which start faster and compile less
        List<String> jvm = quick ? Program.FAST_JVM : List.of();
        List<Row> rows = new ArrayList<>();
        int total = sizes.size() * Bench.Config.values().length + 3;
        int step = 0;
        String lastTx100 = null;
        String lastAtLeastOnce = null;
        for (int size : sizes) {
            int records = size >= 1000 ? Math.max(100, n / 4) : n; // the same volume order for both sizes
            for (Bench.Config c : Bench.Config.values()) {
                System.out.printf("[%d/%d] %s, %d octets, %d messages × %d...%n", ++step, total, c.french, size, records, reps);
                List<Bench.Stats> kit = new ArrayList<>();
                List<Bench.Stats> ref = new ArrayList<>();
                for (int r = 0; r < reps; r++) {
                    // alternate who goes first, so that neither always meets a warmer broker
                    String topic = topic("kit");
                    String refTopic = topic("ref");
                    Topics.create(servers, topic);
                    Topics.create(servers, refTopic);
                    if (r % 2 == 0) {
                        kit.add(Bench.produceInOwnJvm(servers, topic, c, records, size, jvm, Duration.ofMinutes(5)));
                        ref.add(Bench.reference(servers, refTopic, c, records, size, classpath, jvm, Duration.ofMinutes(5)));
                    } else {
                        ref.add(Bench.reference(servers, refTopic, c, records, size, classpath, jvm, Duration.ofMinutes(5)));
                        kit.add(Bench.produceInOwnJvm(servers, topic, c, records, size, jvm, Duration.ofMinutes(5)));
                    }
                    if (c == Bench.Config.TX_100) lastTx100 = topic;
                    if (c == Bench.Config.AT_LEAST_ONCE) lastAtLeastOnce = topic;
                }
                rows.add(new Row(c.french, size, median(kit), median(ref)));
            }
        }
        int size = sizes.get(sizes.size() - 1);
        System.out.printf("[%d/%d] consommateurs : read_uncommitted puis read_committed sur un topic transactionnel...%n", ++step, total);
        Bench.drain(servers, lastTx100, false, size); // warm-up: the first reader would pay for the JIT
        List<Bench.Stats> uncommitted = new ArrayList<>();
        List<Bench.Stats> committed = new ArrayList<>();
        for (int r = 0; r < reps; r++) {
            // alternate who reads first (page cache, JIT), keep the median
            for (boolean readCommitted : r % 2 == 0 ? List.of(false, true) : List.of(true, false)) {
                (readCommitted ? committed : uncommitted).add(Bench.drain(servers, lastTx100, readCommitted, size));
            }
        }
        Bench.Stats ru = median(uncommitted);
        Bench.Stats rc = median(committed);
        System.out.printf("[%d/%d] latence de bout en bout (commit toutes les 100 ms)...%n", ++step, total);
        String e2eTopic = topic("e2e");
        Topics.create(servers, e2eTopic);
        Map<Boolean, Bench.Stats> e2e = Bench.endToEnd(servers, e2eTopic, 100, quick ? 2000 : 5000, size);
        rows.add(new Row("consommateur read_uncommitted", size, withLatency(ru, e2e.get(false)), null));
        rows.add(new Row("consommateur read_committed", size, withLatency(rc, e2e.get(true)), null));
        System.out.printf("[%d/%d] groupe de consommateurs at-least-once contre groupe de partage (acquittement explicite)...%n", ++step, total);
        List<Bench.Stats> group = new ArrayList<>();
        List<Bench.Stats> share = new ArrayList<>();
        for (int r = 0; r < reps; r++) {
            // alternate who reads first, keep the median
            boolean shareFirst = r % 2 == 1;
            if (shareFirst) share.add(Bench.drainShareExplicit(servers, lastAtLeastOnce, size));
            group.add(Bench.drainGroupAtLeastOnce(servers, lastAtLeastOnce, size));
            if (!shareFirst) share.add(Bench.drainShareExplicit(servers, lastAtLeastOnce, size));
        }
        rows.add(new Row(GROUP_AT_LEAST_ONCE, size, median(group), null));
        rows.add(new Row(SHARE_EXPLICIT, size, median(share), null));
        return rows;
    }

    /** Drain throughput, with the end-to-end latency measured for the same isolation level. */
    static final String GROUP_AT_LEAST_ONCE = "consommateur at-least-once (groupe : commitSync par lot)";
    static final String SHARE_EXPLICIT = "consommateur de file (acquittement explicite)";

    private static Bench.Stats withLatency(Bench.Stats drain, Bench.Stats e2e) {
        return new Bench.Stats(drain.records(), drain.seconds(), drain.recordSize(), e2e.p50Ms(), e2e.p99Ms());
    }

    private static Bench.Stats median(List<Bench.Stats> runs) {
        List<Bench.Stats> sorted = new ArrayList<>(runs);
        sorted.sort((a, b) -> Double.compare(a.recordsPerSec(), b.recordsPerSec()));
        return sorted.get(sorted.size() / 2);
    }

    private void print(List<Row> rows) {
        System.out.println();
        System.out.printf("%-42s %7s %12s %8s %9s %9s %12s %6s%n", "configuration", "taille", "msg/s", "Mo/s", "p50 ms", "p99 ms",
                "réf. msg/s", "ratio");
        for (Row r : rows) {
            System.out.printf(Locale.ROOT, "%-42s %7d %12.0f %8.1f %9.1f %9.1f %12s %6s%n", r.configuration(), r.size(),
                    r.kit().recordsPerSec(), r.kit().mbPerSec(), r.kit().p50Ms(), r.kit().p99Ms(),
                    r.reference() == null ? "—" : String.format(Locale.ROOT, "%.0f", r.reference().recordsPerSec()),
                    r.reference() == null ? "—" : r.ratio());
        }
        System.out.println();
        System.out.println("ratio = boucle du kit / ProducerPerformance, même config. p50/p99 : envoi → accusé (producteurs), "
                + "écriture → lecture (consommateurs, commit toutes les 100 ms).");
        for (int size : sizes) {
            Row alo = find(rows, Bench.Config.AT_LEAST_ONCE, size);
            Row tx = find(rows, Bench.Config.TX_100, size);
            System.out.printf(Locale.ROOT, "Coût des transactions (100 ms, %d octets) : %.2f × le débit at-least-once.%n", size,
                    tx.kit().recordsPerSec() / alo.kit().recordsPerSec());
        }
        Row group = rows.stream().filter(r -> r.configuration().equals(GROUP_AT_LEAST_ONCE)).findFirst().orElseThrow();
        Row share = rows.stream().filter(r -> r.configuration().equals(SHARE_EXPLICIT)).findFirst().orElseThrow();
        System.out.printf(Locale.ROOT, "Coût d'une file (acquittement message par message, %d octets) : %.2f × le débit d'un groupe at-least-once.%n",
                share.size(), share.kit().recordsPerSec() / group.kit().recordsPerSec());
        if (quick) System.out.println("--quick : mesures trop courtes pour comparer (JVM froides) ; pour des chiffres, lancez sans --quick.");
    }

    private static Row find(List<Row> rows, Bench.Config c, int size) {
        return rows.stream().filter(r -> r.configuration().equals(c.french) && r.size() == size).findFirst().orElseThrow();
    }

    static String csv(List<Row> rows) {
        StringBuilder csv = new StringBuilder("configuration,taille_octets,messages_par_s,mo_par_s,latence_p50_ms,latence_p99_ms,"
                + "reference_messages_par_s,ratio\n");
        for (Row r : rows) {
            csv.append(String.format(Locale.ROOT, "\"%s\",%d,%.1f,%.3f,%.2f,%.2f,%s,%s%n", r.configuration(), r.size(),
                    r.kit().recordsPerSec(), r.kit().mbPerSec(), r.kit().p50Ms(), r.kit().p99Ms(),
                    r.reference() == null ? "" : String.format(Locale.ROOT, "%.1f", r.reference().recordsPerSec()), r.ratio()));
        }
        return csv.toString();
    }

    private void chart(List<Row> rows, Path png) throws Exception {
        System.setProperty("java.awt.headless", "true");
        CategoryChart chart = new CategoryChartBuilder().width(1100).height(600).title("Coût de chaque garantie (débit producteur)")
                .xAxisTitle("configuration").yAxisTitle("messages/s").build();
        chart.getStyler().setXAxisLabelRotation(20);
        List<String> names = Arrays.stream(Bench.Config.values()).map(c -> c.name().toLowerCase(Locale.ROOT).replace('_', ' ')).toList();
        for (int size : sizes) {
            List<Double> kit = new ArrayList<>();
            List<Double> ref = new ArrayList<>();
            for (Bench.Config c : Bench.Config.values()) {
                Row r = find(rows, c, size);
                kit.add(r.kit().recordsPerSec());
                ref.add(r.reference().recordsPerSec());
            }
            chart.addSeries("kit, " + size + " o", names, kit);
            chart.addSeries("ProducerPerformance, " + size + " o", names, ref);
        }
        BitmapEncoder.saveBitmap(chart, png.toString(), BitmapEncoder.BitmapFormat.PNG);
    }

    /** kafka-tools' classpath, resolved once by JBang (Maven Central, then its cache). */
    private static String referenceClasspath() {
        ScriptRunner.Result r = JBang.run(Duration.ofMinutes(5), Map.of(), "info", "classpath", Bench.TOOLS_GAV);
        String cp = r.stdout().lines().filter(l -> l.contains("kafka-tools")).reduce((a, b) -> b).orElse("");
        if (r.exitCode() != 0 || cp.isBlank()) {
            throw new IllegalStateException("impossible de résoudre " + Bench.TOOLS_GAV + " (Maven Central joignable ?) : " + r.stderr().strip());
        }
        return cp.strip();
    }

    private static String topic(String prefix) { return "bench-" + prefix + "-" + UUID.randomUUID().toString().substring(0, 8); }
}
