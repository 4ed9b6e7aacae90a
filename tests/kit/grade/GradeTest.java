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

import static org.junit.jupiter.api.Assertions.assertEquals;
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
                "producer.commitTransaction();\n", "producer.commitTransaction();\n                        consumer.commitSync(next);\n");
        mistake("acks-zero", "ProducerAtLeastOnce",
                "config.put(ProducerConfig.ACKS_CONFIG, \"all\");", "config.put(ProducerConfig.ACKS_CONFIG, \"0\");");
        mistake("idempotence-laissee", "ProducerAtLeastOnce",
                "config.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, false);", "config.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);");
        mistake("commit-au-lieu-d-abort", "ProducerExactlyOnce",
                "producer.abortTransaction();\n                        aborted.addAll(batch);", "producer.commitTransaction();\n                        aborted.addAll(batch);");
        mistake("retries-en-at-most-once", "ProducerAtMostOnce",
                "config.put(ProducerConfig.RETRIES_CONFIG, 0);", "config.put(ProducerConfig.RETRIES_CONFIG, 5);",
                "config.put(ProducerConfig.ACKS_CONFIG, \"0\");", "config.put(ProducerConfig.ACKS_CONFIG, \"all\");");
        mistake("dedoublonnage-en-memoire", "DedupConsumer",
                "Set<String> done = new HashSet<>(Files.exists(store) ? Files.readAllLines(store) : List.of());", "Set<String> done = new HashSet<>();");
        mistake("zombie-qui-plante", "ZombieFencing",
                "                    fenced = zombie(transaction, batch, failed);\n                    break;\n                } catch (OutOfOrder",
                "                    throw e;\n                } catch (OutOfOrder",
                // the fence can also surface when aborting after another error: the zombie crashes there too
                "                        if (!fencedBy(abortFailed)) throw abortFailed;\n                        fenced = zombie(transaction, batch, failed);\n                        break;\n",
                "                        throw abortFailed;\n");
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

        run = ScriptRunner.jbang(Duration.ofMinutes(20), "grade", classDir.toString(), "--report", reportDir.toString(), "--timeout", "20");
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
        Map<String, String> expected = Map.of(
                "commit-avant-traitement", "validé avant le traitement",
                "auto-commit", "enable.auto.commit=true",
                "read-uncommitted", "isolation.level=read_committed",
                "offsets-hors-transaction", "OffsetCommit",
                "acks-zero", "acks=0",
                "idempotence-laissee", "l'idempotence est active",
                "commit-au-lieu-d-abort", "jamais commitTransaction()",
                "retries-en-at-most-once", "At-most-once, c'est acks=0 et retries=0",
                "dedoublonnage-en-memoire", "pas seulement vivre en mémoire",
                "zombie-qui-plante", "le zombie a planté");
        for (String student : MISTAKES.keySet()) {
            String exercise = MISTAKES.get(student)[0];
            assertTrue(Integer.parseInt(cell(student, exercise)) < 20, student + " doit perdre des points\n" + section(student));
            assertTrue(section(student).contains(expected.get(student)),
                    student + " : l'explication doit contenir « " + expected.get(student) + " »\n" + section(student));
        }
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
