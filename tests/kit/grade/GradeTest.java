package kit.grade;

import kit.util.Folders;
import kit.run.ScriptRunner;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import javax.xml.parsers.DocumentBuilderFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * ./jbang grade on a whole class, run once as a teacher would: the solutions, the untouched exercises, one wrong
 * program per classic mistake, and broken submissions. Every verdict is checked against the report it wrote.
 */
class GradeTest {

    private static Path classDir;
    private static Path reportDir;
    private static ScriptRunner.Result run;
    private static Map<String, String[]> csvRows;
    private static String markdown;

    /** Student → (file, the classic mistake made by mutating a solution). */
    private static final Map<String, String[]> MISTAKES = new LinkedHashMap<>();

    @BeforeAll
    static void gradeAClass() throws Exception {
        classDir = Files.createTempDirectory("classe-");
        reportDir = Files.createTempDirectory("rapport-");
        Path root = ScriptRunner.root();
        // -Dkit.grade.hostilesSeulement=true: only the victim and the hostile submissions (with -Dkit.grade.sansBwrap=true,
        // the quick way to watch the hostile tests fail: mvn test -Dtest='GradeTest#hostile*' -D…)
        if (Boolean.getBoolean("kit.grade.hostilesSeulement")) {
            hostileSubmissions(root);
            gradeTheClass();
            return;
        }
        // the reference: every solution, and every exercise as handed out
        copyAll(root.resolve("solutions"), classDir.resolve("corrige"));
        copyAll(root.resolve("exercises"), classDir.resolve("sujet"));
        // classic mistakes, each a small change to a solution
        mistake("commit-avant-traitement", "ConsumerAtLeastOnce",
                "                    consumer.commitSync(next);\n                    committed++;\n", "",
                "                    // 1) traitement\n", "                    consumer.commitSync(next);\n                    committed++;\n");
        mistake("auto-commit", "ConsumerAtLeastOnce",
                "config.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);", "config.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, true);");
        mistake("read-uncommitted", "ConsumerExactlyOnce",
                "config.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, \"read_committed\");", "config.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, \"read_uncommitted\");");
        mistake("offsets-hors-transaction", "ConsumerExactlyOnce",
                "producer.sendOffsetsToTransaction(next, consumer.groupMetadata());", "",
                "                    Transactions.commit(producer);\n", "                    Transactions.commit(producer);\n                    consumer.commitSync(next);\n");
        mistake("sans-relecture", "ConsumerExactlyOnce",
                "                    rewindToCommitted(consumer);\n", "");
        // the same mistake in a program that ignores --config (its producer keeps max.block.ms=10 s): the grader's quick
        // abortable run (max.block.ms=5000 by --config, 6 s window) does not bite, the 11 s one must
        mistake("sans-relecture-sans-config", "ConsumerExactlyOnce",
                "                    rewindToCommitted(consumer);\n", "",
                "        Plumbing.merge(producerConfig, configFile);\n", "");
        mistake("acks-zero", "ProducerAtLeastOnce",
                "config.put(ProducerConfig.ACKS_CONFIG, \"all\");", "config.put(ProducerConfig.ACKS_CONFIG, \"0\");");
        mistake("idempotence-laissee", "ProducerAtLeastOnce",
                "config.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, false);", "config.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);");
        mistake("commit-au-lieu-d-abort", "ProducerExactlyOnce",
                "            producer.abortTransaction();\n            System.out.println(\"transaction \" + transaction + \" AVORTÉE : \"",
                "            producer.commitTransaction();\n            System.out.println(\"transaction \" + transaction + \" AVORTÉE : \"");
        mistake("retries-en-at-most-once", "ProducerAtMostOnce",
                "config.put(ProducerConfig.RETRIES_CONFIG, 0);", "config.put(ProducerConfig.RETRIES_CONFIG, 5);",
                "config.put(ProducerConfig.ACKS_CONFIG, \"0\");", "config.put(ProducerConfig.ACKS_CONFIG, \"all\");");
        mistake("dedoublonnage-en-memoire", "DedupConsumer",
                "                lines.forEach(line -> done.add(line.split(\"\\t\", 2)[0]));\n", "");
        // a partitioning key is no message id: the updates of one account that share it are dropped
        mistake("dedoublonnage-par-cle", "DedupConsumer", "String id = msg.value();", "String id = msg.key();");
        // the effect, then its marker in another write after the crash point: the crash falls between the two
        mistake("effet-puis-marque", "DedupConsumer",
                "Files.writeString(store, id + \"\\t\" + effect + \"\\n\", StandardOpenOption.CREATE, StandardOpenOption.APPEND, StandardOpenOption.SYNC);",
                "Files.writeString(store, \"\\t\" + effect + \"\\n\", StandardOpenOption.CREATE, StandardOpenOption.APPEND, StandardOpenOption.SYNC);",
                "                    // 2) commit\n",
                "                    Files.writeString(store, id + \"\\n\", StandardOpenOption.APPEND, StandardOpenOption.SYNC);\n                    // 2) commit\n");
        mistake("zombie-qui-plante", "ZombieFencing",
                "                        fenced = zombie(transaction, batch, failed);\n                        break;\n                    }\n                    // avortable",
                "                        throw e;\n                    }\n                    // avortable",
                // the fence can also surface when aborting after another error: the zombie crashes there too
                "                        if (fencedBy(abortFailed)) {\n                            fenced = zombie(transaction, batch, failed);\n                            break;\n                        }\n",
                "");
        // share groups: the whole batch accepted on the broker before its processing (a crash loses the record it was on),
        // a poison record released at each failure (back until the delivery limit), a worker that skips lower offsets
        mistake("file-acquitte-avant", "ShareWorker",
                "                        process(msg);\n                        // traité : l'acquitter maintenant, jamais avant (un crash pendant le traitement le ferait perdre)\n"
                        + "                        consumer.acknowledge(msg, AcknowledgeType.ACCEPT);\n",
                "                        consumer.acknowledge(msg, AcknowledgeType.ACCEPT);\n                        consumer.commitSync();\n"
                        + "                        process(msg);\n",
                "                        consumer.acknowledge(msg, AcknowledgeType.RELEASE);\n", "",
                "                        consumer.acknowledge(msg, AcknowledgeType.REJECT);\n", "");
        mistake("file-sans-reject", "ShareWorker", "consumer.acknowledge(msg, AcknowledgeType.REJECT);\n                        ack = AcknowledgeType.REJECT;",
                "consumer.acknowledge(msg, AcknowledgeType.RELEASE);\n                        ack = AcknowledgeType.RELEASE;");
        mistake("file-ordre", "ShareWorker", "                    AcknowledgeType ack;\n",
                "                    if (msg.offset() < highest) {\n                        consumer.acknowledge(msg, AcknowledgeType.ACCEPT);\n"
                        + "                        continue;\n                    }\n                    highest = msg.offset();\n                    AcknowledgeType ack;\n",
                "    private int attempts;\n", "    private int attempts;\n    private long highest = -1;\n");
        // into PostgreSQL: the offsets committed in Kafka after the insert instead of in the SQL transaction; no seek on assignment
        mistake("base-offsets-dans-kafka", "ConsumerDbExactlyOnce",
                "if (!idempotent) storeOffsets(next);", "",
                "if (idempotent) consumer.commitSync(next); else consumer.commitAsync(next, null);", "consumer.commitSync(next);");
        mistake("base-sans-seek", "ConsumerDbExactlyOnce", "if (!idempotent) seekToStoredOffsets(partitions);", "");
        // submissions that can't be run as they should
        write("ne-compile-pas", "ConsumerAtMostOnce.java", "public class ConsumerAtMostOnce { void f() { int x = \"texte\"; } }");
        write("boucle-infinie", "ProducerAtMostOnce.java", javaMain("ProducerAtMostOnce", "while (true) Thread.sleep(1000);"));
        write("system-exit", "ProducerAtLeastOnce.java", javaMain("ProducerAtLeastOnce", "System.exit(3);"));
        write("halt", "ProducerExactlyOnce.java", javaMain("ProducerExactlyOnce", "Runtime.getRuntime().halt(137);"));
        write("exception", "ProducerAtMostOnce.java", javaMain("ProducerAtMostOnce", "throw new IllegalStateException(\"boum\");"));
        write("inonde", "ConsumerAtMostOnce.java", javaMain("ConsumerAtMostOnce",
                "String line = \"x\".repeat(1000); for (int i = 0; i < 4000; i++) System.out.println(line);"));
        write("mauvaise-classe", "ProducerAtMostOnce.java", "public class Autre { public static void main(String[] a) { } }");
        write("sans-main", "ProducerAtLeastOnce.java", "public class ProducerAtLeastOnce { }");
        write("inconnu", "MonProgramme.java", "public class MonProgramme { }");
        Files.createDirectories(classDir.resolve("dossier-vide"));
        Path latin1 = Files.createDirectories(classDir.resolve("pas-utf8")).resolve("ProducerAtMostOnce.java");
        Files.write(latin1, "// é en latin-1\npublic class ProducerAtMostOnce { }".getBytes(StandardCharsets.ISO_8859_1));

        // one correct exercise out of eight is not 20/20
        write("un-sur-huit", "ProducerAtMostOnce.java", Files.readString(root.resolve("solutions/ProducerAtMostOnce.java")));
        // a program that drops message 3 and says so itself (failedSeqs): a loss all the same
        mistake("menteur", "ProducerAtLeastOnce",
                "                String value = runId + \"-\" + seq;\n                int thisSeq = seq;\n",
                "                String value = runId + \"-\" + seq;\n                int thisSeq = seq;\n"
                        + "                if (seq == 3) { failed.add(seq); sent++; continue; }\n");
        hostileSubmissions(root);
        gradeTheClass();
    }

    private static void gradeTheClass() throws Exception {
        List<String> command = new java.util.ArrayList<>(List.of("grade", classDir.toString(), "--report", reportDir.toString(), "--timeout", "20"));
        // -Dkit.grade.sansBwrap=true: the same class without bubblewrap, to watch the hostile tests fail
        if (Boolean.getBoolean("kit.grade.sansBwrap")) command.add("--sans-bwrap");
        run = ScriptRunner.jbang(Duration.ofMinutes(25), Map.of(SECRET_VARIABLE, SECRET), command.toArray(String[]::new));
        reportFiles = new LinkedHashMap<>();
        try (var files = Files.list(reportDir)) {
            for (Path f : files.toList()) reportFiles.put(f.getFileName().toString(), Files.readString(f));
        }
        csvRows = new LinkedHashMap<>();
        List<String> lines = Files.readAllLines(reportDir.resolve("report.csv"));
        String[] header = lines.get(0).split(",", -1);
        for (String line : lines.subList(1, lines.size())) {
            String[] cells = line.split(",", -1);
            assertEquals(header.length, cells.length, "ligne CSV mal formée : " + line);
            csvRows.put(cells[0], cells);
        }
        csvRows.put("__header__", header);
        markdown = Files.readString(reportDir.resolve("report.md"));
    }

    // ---- hostile submissions ------------------------------------------------------------------------------

    private static final String SECRET_VARIABLE = "KIT_SECRET_DE_TEST";
    private static final String SECRET = "secret-de-test-" + java.util.UUID.randomUUID();
    private static final String VICTIM_MARKER = "MARQUEUR-VICTIME-" + java.util.UUID.randomUUID();
    /** The detached child the "orphelin" leaves behind: a sleep with a unique duration, to find it afterwards. */
    private static final String ORPHAN_SLEEP = "4" + (100000 + new java.util.Random().nextInt(800000)) + ".25";
    private static String victimSource;
    private static Map<String, String> reportFiles;

    /**
     * Programs that follow the exercise's contract but first try to do harm: each attack that works makes itself
     * seen (an exception carrying what was stolen, a file left behind, a process still running), so that the
     * assertions below see the harm if it happens.
     */
    private static void hostileSubmissions(Path root) throws Exception {
        String solution = Files.readString(root.resolve("solutions/ProducerAtMostOnce.java"));
        victimSource = solution.replace("public class ProducerAtMostOnce", "// " + VICTIM_MARKER + "\npublic class ProducerAtMostOnce");
        write("victime", "ProducerAtMostOnce.java", victimSource);
        // its own database only: the superuser (the usual password, none), its role into another database, all refused
        write("espion-base", "ConsumerDbExactlyOnce.java", """
                //DEPS org.postgresql:postgresql:42.7.14
                import java.sql.*;
                import java.util.*;
                public class ConsumerDbExactlyOnce {
                    static String attempt(String url, String user, String password) {
                        try (Connection c = DriverManager.getConnection(url, user, password)) { return "OUVERT"; }
                        catch (SQLException e) { return "refusé"; }
                    }
                    public static void main(String[] args) {
                        List<String> a = Arrays.asList(args);
                        String url = a.get(a.indexOf("--jdbc-url") + 1), user = a.get(a.indexOf("--db-user") + 1);
                        String password = a.get(a.indexOf("--db-password") + 1), server = url.substring(0, url.lastIndexOf('/') + 1);
                        System.err.println("BASE superuser=" + attempt(server + "postgres", "postgres", "postgres")
                                + " superuser-sans-mot-de-passe=" + attempt(server + "postgres", "postgres", "")
                                + " role-ailleurs=" + attempt(server + "postgres", user, password) + "/" + attempt(server + "template1", user, password)
                                + " chez-soi=" + attempt(url, user, password) + " FIN");
                        System.exit(3);
                    }
                }
                """);
        // read another student's file (the original, or the grader's copy of it), then overwrite it
        hostile("espion", solution, """
                String wanted = "MARQUEUR" + "-VICTIME-";
                StringBuilder stolen = new StringBuilder();
                java.util.List<java.nio.file.Path> roots = new java.util.ArrayList<>(java.util.List.of(java.nio.file.Path.of("%s")));
                try (var tmp = java.nio.file.Files.list(java.nio.file.Path.of("/tmp"))) {
                    tmp.filter(p -> p.getFileName().toString().startsWith("kit-")).forEach(roots::add);
                } catch (Exception e) { }
                for (java.nio.file.Path r : roots) {
                    try (var w = java.nio.file.Files.walk(r, 8)) {
                        for (java.nio.file.Path f : w.filter(x -> x.toString().endsWith(".java")).toList()) {
                            try {
                                String text = java.nio.file.Files.readString(f);
                                int at = text.indexOf(wanted);
                                if (at < 0) continue;
                                stolen.append(text, at, Math.min(text.length(), at + 60)).append(' ');
                                java.nio.file.Files.writeString(f, "// ÉCRASÉ");
                            } catch (Exception e) { }
                        }
                    } catch (Exception e) { }
                }
                if (stolen.length() > 0) throw new IllegalStateException("VOLÉ " + stolen);
                """.formatted(classDir));
        // write into the report folder, and next to its own original file
        hostile("pirate", solution, """
                for (String target : new String[] {"%s/pirate.txt", "%s/pirate/pirate.txt"}) {
                    try { java.nio.file.Files.writeString(java.nio.file.Path.of(target), "piraté"); } catch (Exception e) { }
                }
                """.formatted(reportDir, classDir));
        // read the teacher's solutions
        hostile("copieur", solution, """
                try {
                    for (String line : java.nio.file.Files.readAllLines(java.nio.file.Path.of("%s/solutions/ProducerAtLeastOnce.java"))) {
                        if (line.contains("ENABLE_IDEMPOTENCE_CONFIG")) throw new IllegalStateException("SOLUTION LUE " + line.strip());
                    }
                } catch (java.io.IOException e) { }
                """.formatted(root));
        // print a secret of the teacher's environment: its own, or any process's it can read
        hostile("fouineur", solution, """
                StringBuilder found = new StringBuilder();
                for (String v : System.getenv().values()) if (v.startsWith("secret-de-test-")) found.append(v).append(' ');
                try (var procs = java.nio.file.Files.list(java.nio.file.Path.of("/proc"))) {
                    for (java.nio.file.Path p : procs.toList()) {
                        try {
                            String env = new String(java.nio.file.Files.readAllBytes(p.resolve("environ")));
                            int at = env.indexOf("secret-de-test-");
                            if (at >= 0) found.append(env, at, Math.min(env.length(), at + 60)).append(' ');
                        } catch (Exception e) { }
                    }
                } catch (Exception e) { }
                if (found.length() > 0) throw new IllegalStateException("SECRET " + found);
                """);
        // leave a detached child process running after a normal exit
        hostile("orphelin", solution, """
                try {
                    new ProcessBuilder("setsid", "sleep", "%s").redirectOutput(ProcessBuilder.Redirect.DISCARD)
                            .redirectError(ProcessBuilder.Redirect.DISCARD).start();
                } catch (Exception e) { }
                """.formatted(ORPHAN_SLEEP));
        // flood stderr with control characters, then fail with more of them in the message
        hostile("bavard", solution, """
                StringBuilder junk = new StringBuilder();
                for (char c = 0; c < 0x20; c++) junk.append(c);
                junk.append('\\uFFFE').append('\\uFFFF').append('\\u007F');
                for (int i = 0; i < 2000; i++) System.err.println(junk);
                if (junk.length() > 0) throw new IllegalStateException("bavard " + junk);
                """);        resourceHogs(solution);
    }

    /**
     * The network and the machine's resources. The scanner tries every loopback port, and on every one but its own
     * broker's it lists the topics with Kafka's admin client, deletes them and writes junk into them: with the job
     * brokers all up for the whole grading (started before the first submission, closed after the last), any port it
     * reaches is another job's broker or a service of the teacher's; what it reached, it says (« ATTEINT »). Then it
     * does its exercise, as an honest program. The others each stop at a bound well past the grader's limit (so that
     * breaking a limit shows the harm without harming this machine) and say how far they went.
     */
    private static void resourceHogs(String solution) throws Exception {
        hostile("balayeur", solution, """
                // once per submission (its first run), the cell's own folder being two levels up
                boolean first = false;
                try { java.nio.file.Files.createFile(java.nio.file.Path.of("../../balaye")); first = true; } catch (Exception e) { }
                StringBuilder reached = new StringBuilder();
                if (first) {
                    int own = -1;
                    for (int i = 0; i + 1 < args.length; i++) if (args[i].equals("-b")) own = Integer.parseInt(args[i + 1].replaceAll(".*:", ""));
                    // the listening sockets of its network namespace (all the machine's, without one), for 6 s
                    java.util.Set<Integer> open = new java.util.TreeSet<>();
                    long scanUntil = System.nanoTime() + 6_000_000_000L;
                    do {
                        for (String table : new String[] {"/proc/net/tcp", "/proc/net/tcp6"}) {
                            try {
                                for (String l : java.nio.file.Files.readAllLines(java.nio.file.Path.of(table))) {
                                    String[] f = l.trim().split("\\s+");
                                    if (f.length > 3 && f[3].equals("0A")) open.add(Integer.parseInt(f[1].replaceAll(".*:", ""), 16));
                                }
                            } catch (Exception e) { }
                        }
                        try { Thread.sleep(200); } catch (InterruptedException e) { }
                    } while (System.nanoTime() < scanUntil);
                    if (!open.contains(own)) throw new IllegalStateException("BALAYAGE AVEUGLE : son propre broker (" + own + ") introuvable");
                    for (int port : open) {
                        if (port == own) continue;
                        reached.append(port).append(' ');
                        java.util.Properties p = new java.util.Properties();
                        p.put("bootstrap.servers", "127.0.0.1:" + port);
                        p.put("request.timeout.ms", "2000");
                        p.put("default.api.timeout.ms", "3000");
                        try (var admin = org.apache.kafka.clients.admin.Admin.create(p)) {
                            var topics = admin.listTopics().names().get(3, java.util.concurrent.TimeUnit.SECONDS);
                            reached.append(topics).append(' ');
                            p.put("key.serializer", org.apache.kafka.common.serialization.StringSerializer.class.getName());
                            p.put("value.serializer", org.apache.kafka.common.serialization.StringSerializer.class.getName());
                            p.put("max.block.ms", "3000");
                            try (var junk = new org.apache.kafka.clients.producer.KafkaProducer<String, String>(p)) {
                                for (String t : topics) junk.send(new org.apache.kafka.clients.producer.ProducerRecord<>(t, "junk-1"));
                            }
                            admin.deleteTopics(topics).all().get(3, java.util.concurrent.TimeUnit.SECONDS);
                        } catch (Exception e) { }
                    }
                }
                if (reached.length() > 0) throw new IllegalStateException("ATTEINT " + reached);
                """);
        // a quota of 1 byte/s for every client of its broker: the next submissions graded on it would time out
        hostile("quotas", solution, """
                String bootstrap = "";
                for (int i = 0; i + 1 < args.length; i++) if (args[i].equals("-b")) bootstrap = args[i + 1];
                java.util.Properties p = new java.util.Properties();
                p.put("bootstrap.servers", bootstrap);
                p.put("request.timeout.ms", "3000");
                p.put("default.api.timeout.ms", "4000");
                try (var admin = org.apache.kafka.clients.admin.Admin.create(p)) {
                    var everyone = new org.apache.kafka.common.quota.ClientQuotaEntity(java.util.Collections.singletonMap("client-id", null));
                    admin.alterClientQuotas(java.util.List.of(new org.apache.kafka.common.quota.ClientQuotaAlteration(everyone,
                            java.util.List.of(new org.apache.kafka.common.quota.ClientQuotaAlteration.Op("producer_byte_rate", 1.0)))))
                            .all().get(5, java.util.concurrent.TimeUnit.SECONDS);
                } catch (Exception e) { }
                """);
        // a fork bomb (bounded at 1000 processes)
        hostile("fourche", solution, """
                int started = 0;
                try {
                    for (; started < 1000; started++) new ProcessBuilder("sleep", "60").start();
                } catch (Exception e) { }
                if (started >= 1000) throw new IllegalStateException("FOURCHE " + started + " processus");
                """);
        // a memory hog (bounded at 3 GiB)
        hostile("glouton", solution, """
                java.util.List<byte[]> kept = new java.util.ArrayList<>();
                for (int i = 0; i < 48; i++) {
                    byte[] b = new byte[64 * 1024 * 1024];
                    java.util.Arrays.fill(b, (byte) 1);
                    kept.add(b);
                }
                if (!kept.isEmpty()) throw new IllegalStateException("GLOUTON " + kept.size() * 64 + " Mio");
                """);
        // a disk filler: writes until refused (bounded at 200 MiB)
        hostile("remplisseur", solution, """
                byte[] mib = new byte[1024 * 1024];
                int written = 0;
                try (var out = java.nio.file.Files.newOutputStream(java.nio.file.Path.of("rempli.bin"))) {
                    for (; written < 200; written++) out.write(mib);
                } catch (java.io.IOException e) {
                    throw new IllegalStateException("refusé après " + written + " Mio : " + e.getMessage());
                }
                if (written >= 0) throw new IllegalStateException("REMPLI " + written + " Mio");
                """);
        // a cell filler: file after file into the submission's own folder (on disk, kept between its runs), each under the
        // size limit of one file (bounded at 20 files of 24 MiB)
        hostile("entasseur", solution, """
                java.nio.file.Path cell = java.nio.file.Path.of(System.getenv("HOME")).getParent();
                byte[] mib = new byte[1024 * 1024];
                int files = 0;
                try {
                    for (; files < 20; files++) {
                        try (var out = java.nio.file.Files.newOutputStream(cell.resolve("tas-" + files + ".bin"))) {
                            for (int i = 0; i < 24; i++) out.write(mib);
                        }
                    }
                } catch (java.io.IOException e) {
                    throw new IllegalStateException("refusé après " + files + " fichiers : " + e.getMessage());
                }
                if (files >= 20) throw new IllegalStateException("ENTASSE " + files * 24 + " Mio");
                """);
        // a memory hog in a second JVM, whose heap the grader's -Xmx does not bound: 1.1 GiB touched at its start
        hostile("jumeau", solution, """
                String java = ProcessHandle.current().info().command().orElse("java");
                int code = -1;
                try {
                    code = new ProcessBuilder(java, "-Xms1100m", "-Xmx1100m", "-XX:+AlwaysPreTouch", "-version")
                            .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start().waitFor();
                } catch (Exception e) { }
                if (code == 0) throw new IllegalStateException("JUMEAU 1100 Mio");
                """);
        // an endless stdout flood
        hostile("deluge", solution, """
                String line = "x".repeat(1000);
                while (line != null) System.out.println(line);
                """);
    }

    /** The solution with {@code attack} run first thing in main. */
    private static void hostile(String student, String solution, String attack) throws Exception {
        String entry = "    public static void main(String... args) {\n";
        assertTrue(solution.contains(entry));
        write(student, "ProducerAtMostOnce.java", solution.replace(entry, entry + attack.indent(8)));
    }

    private static String everyReport() {
        return String.join("\n", reportFiles.values()) + "\n" + run.stdout() + "\n" + run.stderr();
    }

    private static boolean bubblewrap() {
        return markdown.contains("Isolation des programmes : bubblewrap");
    }

    @Test
    void theIsolationUsed_isInTheReport_bubblewrapWhereItWorks() {
        assertTrue(markdown.contains("Isolation des programmes : "), markdown.substring(0, Math.min(800, markdown.length())));
        boolean linuxWithBwrap = System.getProperty("os.name").toLowerCase().contains("linux") && !Boolean.getBoolean("kit.grade.sansBwrap")
                && java.util.Arrays.stream(System.getenv("PATH").split(":")).anyMatch(d -> Files.isExecutable(Path.of(d, "bwrap")));
        if (linuxWithBwrap) assertTrue(bubblewrap(), "bubblewrap est là : il doit servir\n" + markdown.substring(0, 800));
        // what the sandbox leaves out is said too
        if (bubblewrap()) assertTrue(markdown.contains("La construction JBang se fait hors du bac à sable"), markdown.substring(0, 1500));
    }

    @Test
    void hostile_cannotReadNorOverwriteAnotherStudentsFile() throws Exception {
        assertEquals(victimSource, Files.readString(classDir.resolve("victime/ProducerAtMostOnce.java")), "le fichier de la victime a changé");
        assertEquals("20", cell("victime", "ProducerAtMostOnce"), "la victime est notée sur son propre fichier\n" + section("victime"));
        assertFalse(everyReport().contains(VICTIM_MARKER), "l'espion a lu le fichier de la victime\n" + section("espion"));
        assertFalse(everyReport().contains("VOLÉ"), section("espion"));
    }

    @Test
    void hostile_cannotWriteIntoTheReportFolder_norOutsideItsOwn() {
        assertFalse(Files.exists(reportDir.resolve("pirate.txt")), "écrit dans le dossier du rapport");
        assertFalse(Files.exists(classDir.resolve("pirate/pirate.txt")), "écrit à côté de son fichier rendu");
        assertEquals(Set.of("report.md", "report.csv", "junit.xml"), reportFiles.keySet());
    }

    @Test
    void hostile_cannotReadTheSolutions() {
        assertFalse(everyReport().contains("SOLUTION LUE"), "le copieur a lu solutions/\n" + section("copieur"));
        assertEquals("20", cell("copieur", "ProducerAtMostOnce"), "l'attaque échoue, le programme fait son travail\n" + section("copieur"));
    }

    @Test
    void hostile_cannotPrintTheTeachersSecret() {
        assertFalse(everyReport().contains(SECRET), "le secret de l'environnement a fuité\n" + section("fouineur"));
        assertFalse(everyReport().contains("SECRET secret-de-test"), section("fouineur"));
    }

    @Test
    void hostile_leavesNoProcessRunning() {
        List<String> left = ProcessHandle.allProcesses().filter(p -> p.info().arguments().map(a -> Arrays.asList(a).contains(ORPHAN_SLEEP))
                .orElse(false)).map(p -> p.pid() + " " + p.info().commandLine().orElse("")).toList();
        ProcessHandle.allProcesses().filter(p -> p.info().arguments().map(a -> Arrays.asList(a).contains(ORPHAN_SLEEP)).orElse(false))
                .forEach(ProcessHandle::destroyForcibly);
        assertEquals(List.of(), left, "un processus lancé par un rendu tourne encore");
    }

    /**
     * The scanner ran while other submissions were graded beside it (from the grader's own log: each line gives when a
     * submission ended and how long it took), and reached no port but its own broker's: it then did its exercise.
     */
    /** A submission given its database's account reaches that database only: not as the superuser, not elsewhere with its role. */
    @Test
    void hostile_reachesOnlyItsOwnDatabase() {
        assertTrue(section("espion-base").contains("BASE superuser=refusé superuser-sans-mot-de-passe=refusé role-ailleurs=refusé/refusé "
                + "chez-soi=OUVERT FIN"), section("espion-base"));
    }

    @Test
    void hostile_cannotReachTheOtherJobsBrokers() {
        assertFalse(everyReport().contains("BALAYAGE AVEUGLE"), "le balayage ne voit même pas son propre broker\n" + section("balayeur"));
        if (bubblewrap()) {
            assertFalse(everyReport().contains("ATTEINT"), "le balayeur a joint un autre port que son broker\n" + section("balayeur"));
            assertEquals("20", cell("balayeur", "ProducerAtMostOnce"), section("balayeur"));
        }
        assertEquals("20", cell("victime", "ProducerAtMostOnce"), section("victime"));
        if (bubblewrap()) assertTrue(section("quotas").contains("requête Kafka refusée par le correcteur (AlterClientQuotas)"), section("quotas"));
        double[] scan = interval("balayeur", "ProducerAtMostOnce");
        boolean overlapped = run.stdout().lines().filter(l -> l.matches("\\[\\d+/\\d+\\] .*") && !l.contains(" balayeur/"))
                .map(l -> interval(l)).anyMatch(o -> o != null && o[0] < scan[1] && scan[0] < o[1]);
        assertTrue(overlapped, "aucun autre rendu noté pendant le balayeur\n" + run.stdout());
    }

    /** [start, end] in seconds since the grading began, of a submission, from its line in the grader's log. */
    private static double[] interval(String student, String exercise) {
        String line = run.stdout().lines().filter(l -> l.contains("] " + student + "/" + exercise + " : ")).findFirst().orElse("");
        double[] i = interval(line);
        assertTrue(i != null, "pas de ligne pour " + student + "\n" + run.stdout());
        return i;
    }

    private static double[] interval(String line) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("\\((\\d+) s ; écoulé (\\d+) s").matcher(line);
        if (!m.find()) return null;
        double end = Double.parseDouble(m.group(2));
        return new double[] {end - Double.parseDouble(m.group(1)) - 1, end + 1};
    }

    /** Each hog gets 0 with its French reason, and did not go past the grader's limit; the class was graded. */
    @Test
    void hostile_resourceHogs_getZeroWithTheirReason() {
        Map<String, String> reasons = new LinkedHashMap<>();
        reasons.put("glouton", "mémoire épuisée (OutOfMemoryError");
        reasons.put("deluge", "sortie trop volumineuse");
        if (bubblewrap()) {
            reasons.put("fourche", "limite de processus atteinte");
            reasons.put("remplisseur", "limite de taille de fichier atteinte");
        }
        // a second JVM is bounded by the run's memory cgroup only
        if (markdown.contains("Mio (cgroup v")) reasons.put("jumeau", "limite de mémoire atteinte");
        reasons.put("entasseur", "dossier du rendu trop rempli");
        // every hog's verdict at once: breaking one limit shows which
        org.junit.jupiter.api.Assertions.assertAll(reasons.entrySet().stream().map(e -> () -> {
            assertEquals("0", cell(e.getKey(), "ProducerAtMostOnce"), section(e.getKey()));
            assertTrue(section(e.getKey()).contains(e.getValue()), section(e.getKey()));
            assertTrue(section(e.getKey()).contains("0 pour cet exercice"), section(e.getKey()));
        }));
        for (String harm : List.of("FOURCHE", "GLOUTON", "REMPLI ", "ENTASSE ", "JUMEAU ")) assertFalse(everyReport().contains(harm), harm + "\n" + markdown);
        // the flood is stopped at once, not at the time limit (a flood that ran out its time is « délai dépassé »)
        assertFalse(section("deluge").contains("délai dépassé"), section("deluge"));
        assertEquals("20", cell("victime", "ProducerAtMostOnce"), "les autres sont notés");
    }

    @Test
    void hostile_controlCharactersOnStderr_leaveJunitXmlValid() throws Exception {
        var doc = DocumentBuilderFactory.newInstance().newDocumentBuilder().parse(reportDir.resolve("junit.xml").toFile());
        boolean found = false;
        var suites = doc.getElementsByTagName("testsuite");
        for (int i = 0; i < suites.getLength(); i++) found |= ((org.w3c.dom.Element) suites.item(i)).getAttribute("name").equals("bavard");
        assertTrue(found, "pas de testsuite pour bavard");
        assertTrue(section("bavard").contains("le programme s'est arrêté avec le code 1"), section("bavard"));
        for (String f : List.of("report.md", "report.csv", "junit.xml")) {
            assertFalse(reportFiles.get(f).chars().anyMatch(c -> c < 0x20 && c != '\n' && c != '\t'), f + " garde un caractère de contrôle");
        }
    }

    @Test
    void theMark_isTheMeanOverTheWholeAssignment() {
        String mean = String.format(java.util.Locale.ROOT, "%.1f", 20.0 / Exercise.values().length);
        assertEquals(mean, csvRows.get("un-sur-huit")[1], "un exercice juste sur " + Exercise.values().length + " : " + mean + "/20\n"
                + section("un-sur-huit"));
        assertEquals(Exercise.values().length - 1, section("un-sur-huit").split("non rendu", -1).length - 1, section("un-sur-huit"));
        assertEquals("0", cell("un-sur-huit", "ConsumerExactlyOnce"));
        assertEquals("20.0", csvRows.get("corrige")[1]);
    }

    @Test
    void aLossTheProgramReportsItself_isStillALoss() {
        assertEquals("0", cell("menteur", "ProducerAtLeastOnce"), section("menteur"));
        assertTrue(section("menteur").contains("message perdu"), section("menteur"));
        assertTrue(section("menteur").contains("envoi(s) en échec selon le programme lui-même"), section("menteur"));
    }

    @AfterAll
    static void cleanUp() {
        Folders.deleteRecursively(classDir);
        Folders.deleteRecursively(reportDir);
    }

    @Test
    void everySolutionScoresTwenty() {
        for (Exercise e : Exercise.values()) assertEquals("20", cell("corrige", e.className), e.className + "\n" + section("corrige"));
    }

    @Test
    void everyUntouchedExerciseFails_withFeedback() {
        for (Exercise e : Exercise.values()) {
            int score = Integer.parseInt(cell("sujet", e.className));
            assertTrue(score < 20, e.className + " tel que distribué ne doit pas avoir 20/20\n" + section("sujet"));
        }
        assertTrue(section("sujet").split("✘").length > Exercise.values().length, "chaque exercice doit expliquer ce qui échoue\n" + section("sujet"));
    }

    @Test
    void eachClassicMistakeIsCaught_withTheRightExplanation() {
        Map<String, String> expected = Map.ofEntries(
                Map.entry("commit-avant-traitement", "validé avant le traitement"),
                Map.entry("auto-commit", "enable.auto.commit=true"),
                Map.entry("read-uncommitted", "isolation.level=read_committed"),
                Map.entry("offsets-hors-transaction", "OffsetCommit"),
                Map.entry("sans-relecture", "rewindToCommitted"),
                Map.entry("sans-relecture-sans-config", "rewindToCommitted"),
                Map.entry("acks-zero", "acks=0"),
                Map.entry("idempotence-laissee", "l'idempotence est active"),
                Map.entry("commit-au-lieu-d-abort", "jamais commitTransaction()"),
                Map.entry("retries-en-at-most-once", "At-most-once, c'est acks=0 et retries=0"),
                Map.entry("dedoublonnage-en-memoire", "pas seulement gardé en mémoire"),
                Map.entry("dedoublonnage-par-cle", "pas par clé de partitionnement"),
                Map.entry("effet-puis-marque", "dans la même ligne du journal"),
                Map.entry("zombie-qui-plante", "le zombie a planté"),
                Map.entry("menteur", "message perdu"),
                Map.entry("file-acquitte-avant", "Acquittez APRÈS le traitement"),
                Map.entry("file-sans-reject", "jusqu'à la limite de livraisons"),
                Map.entry("file-ordre", "ne garantit aucun ordre"),
                Map.entry("base-offsets-dans-kafka", "offset commité dans Kafka après l'insert"),
                Map.entry("base-sans-seek", "pas de seek à l'assignation"));
        // every mistake judged, then every miss told at once: one slow run does not hide the others' verdicts
        List<String> missed = new java.util.ArrayList<>();
        for (String student : MISTAKES.keySet()) {
            String exercise = MISTAKES.get(student)[0];
            if (Integer.parseInt(cell(student, exercise)) >= 20) missed.add(student + " doit perdre des points\n" + section(student));
            else if (!section(student).contains(expected.get(student))) {
                missed.add(student + " : l'explication doit contenir « " + expected.get(student) + " »\n" + section(student));
            }
        }
        assertTrue(missed.isEmpty(), String.join("\n\n", missed));
    }

    @Test
    void brokenSubmissions_getAClearVerdict_andTheOthersAreStillGraded() {
        assertTrue(section("ne-compile-pas").contains("ne compile pas"), section("ne-compile-pas"));
        assertTrue(section("boucle-infinie").contains("délai dépassé"), section("boucle-infinie"));
        assertTrue(section("system-exit").contains("code 3"), section("system-exit"));
        assertTrue(section("halt").contains("Runtime.halt"), section("halt"));
        assertTrue(section("exception").contains("IllegalStateException: boum"), section("exception"));
        assertTrue(section("inonde").contains("sortie trop volumineuse") || section("inonde").contains("pas de ligne RESUME"), section("inonde"));
        assertTrue(section("mauvaise-classe").contains("ne compile pas : ProducerAtMostOnce.java:1: "), section("mauvaise-classe"));
        assertTrue(section("sans-main").contains("pas de méthode main"), section("sans-main"));
        assertTrue(section("inconnu").contains("exercice inconnu"), section("inconnu"));
        assertTrue(section("dossier-vide").contains("dossier vide"), section("dossier-vide"));
        assertTrue(section("pas-utf8").contains("UTF-8"), section("pas-utf8"));
        assertEquals("20", cell("corrige", "ConsumerExactlyOnce"), "les rendus cassés n'empêchent pas de noter les autres");
    }

    @Test
    void classReports_oneCsvRowPerStudent_junitXml_exitCode() throws Exception {
        assertEquals(1, run.exitCode(), "des rendus échouent : code 1\n" + run.describe());
        long students;
        try (var dirs = Files.list(classDir)) {
            students = dirs.filter(Files::isDirectory).count();
        }
        assertEquals(students, csvRows.size() - 1, "une ligne par étudiant : " + csvRows.keySet());
        var doc = DocumentBuilderFactory.newInstance().newDocumentBuilder().parse(reportDir.resolve("junit.xml").toFile());
        assertEquals(students, doc.getElementsByTagName("testsuite").getLength());
        assertTrue(doc.getElementsByTagName("failure").getLength() > 10);
        assertTrue(run.stdout().contains("[" + (run.stdout().lines().filter(l -> l.matches("\\[\\d+/\\d+\\] .*")).count()) + "/"),
                "une ligne de progression par rendu\n" + run.stdout());
    }

    // ---- helpers ------------------------------------------------------------------------------------------

    private static String cell(String student, String exercise) {
        String[] header = csvRows.get("__header__");
        String[] row = csvRows.get(student);
        assertTrue(row != null, "pas de ligne pour " + student + " dans le CSV\n" + run.describe());
        int col = Arrays.asList(header).indexOf(exercise);
        assertTrue(col > 0, "pas de colonne " + exercise);
        return row[col];
    }

    /** The student's part of report.md. */
    private static String section(String student) {
        int start = markdown.indexOf("\n## " + student + "\n");
        assertTrue(start >= 0, "pas de section pour " + student + "\n" + markdown);
        int end = markdown.indexOf("\n## ", start + 1);
        return markdown.substring(start, end < 0 ? markdown.length() : end);
    }

    /** A solution with some text replaced (pairs: old, new); the change must really happen. */
    private static void mistake(String student, String exercise, String... replacements) throws Exception {
        String original = Files.readString(ScriptRunner.root().resolve("solutions").resolve(exercise + ".java"));
        String changed = original;
        for (int i = 0; i < replacements.length; i += 2) {
            String before = changed;
            changed = changed.replace(replacements[i], replacements[i + 1]);
            assertNotEquals(before, changed, student + " : « " + replacements[i] + " » introuvable dans la solution");
        }
        write(student, exercise + ".java", changed);
        MISTAKES.put(student, new String[] {exercise});
    }

    private static void write(String student, String file, String text) throws Exception {
        Files.writeString(Files.createDirectories(classDir.resolve(student)).resolve(file), text);
    }

    private static String javaMain(String className, String body) {
        return "public class " + className + " { public static void main(String[] args) throws Exception { " + body + " } }";
    }

    private static void copyAll(Path from, Path to) throws Exception {
        Files.createDirectories(to);
        try (var files = Files.list(from)) {
            for (Path f : files.toList()) Files.writeString(to.resolve(f.getFileName()), Files.readString(f));
        }
    }
}
