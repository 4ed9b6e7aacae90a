package kit.grade;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;

import org.junit.jupiter.api.Test;

import javax.xml.parsers.DocumentBuilderFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The class mark and the report files, without running anything: the mean over the assignment, text made safe. */
class GradeReportTest {

    private static final List<String> ALL = Arrays.stream(Exercise.values()).map(e -> e.className).toList();

    private static Grader.Grade full(String student, String exercise) {
        return new Grader.Grade(student, exercise, List.of(new Grader.Check("tout", 20, true, "ni perte ni doublon")));
    }

    @Test
    void oneCorrectExerciseOutOfTheAssignment_isTwentyOverItsSize_notTwenty() {
        List<Grader.Grade> grades = new ArrayList<>(List.of(full("alice", "ProducerAtLeastOnce")));
        for (Exercise e : Exercise.values()) {
            if (!e.className.equals("ProducerAtLeastOnce")) grades.add(Grader.notHandedIn("alice", e));
        }
        GradeReport report = new GradeReport(grades, ALL, "test");
        // ten exercises: 20 / 10
        assertEquals(10, Exercise.values().length, "la consigne par défaut");
        assertEquals(2.0, report.studentScore("alice"), 1e-9);
        assertTrue(report.markdown().contains("non rendu"), report.markdown());
        assertTrue(report.csv().contains("alice,2.0,"), report.csv());
    }

    @Test
    void filesOutsideTheAssignment_dontCount_andAMissingOneCountsZero() {
        List<Grader.Grade> grades = List.of(full("bob", "ProducerAtLeastOnce"),
                Grader.notGradable("bob", "MonProgramme.java", "exercice inconnu"));
        // the grades alone, without the grader's "non rendu" entries: a missing exercise still counts 0
        GradeReport report = new GradeReport(grades, List.of("ProducerAtLeastOnce", "ConsumerAtLeastOnce", "ZombieFencing",
                "DedupConsumer"), "test");
        assertEquals(5.0, report.studentScore("bob"), 1e-9);
    }

    @Test
    void controlCharactersFromAProgram_leaveEveryReportReadable() throws Exception {
        StringBuilder nasty = new StringBuilder("boum");
        for (char c = 0; c < 0x20; c++) nasty.append(c);
        nasty.append('\uFFFE').append('\uD800').append("\u007F\u0085fin");
        List<Grader.Grade> grades = List.of(new Grader.Grade("eve\u0007", "ProducerAtMostOnce",
                List.of(new Grader.Check("lancement", 20, false, nasty.toString()))));
        Path dir = Files.createTempDirectory("rapport-");
        new GradeReport(grades, List.of("ProducerAtMostOnce"), "test").write(dir);
        var doc = DocumentBuilderFactory.newInstance().newDocumentBuilder().parse(dir.resolve("junit.xml").toFile());
        String message = ((org.w3c.dom.Element) doc.getElementsByTagName("failure").item(0)).getAttribute("message");
        assertTrue(message.startsWith("boum") && message.endsWith("fin"), message);
        for (String f : List.of("report.md", "report.csv", "junit.xml")) {
            String text = Files.readString(dir.resolve(f));
            assertFalse(text.chars().anyMatch(c -> c < 0x20 && c != '\n' && c != '\t'), f + " garde un caractère de contrôle");
        }
        kit.util.Folders.deleteRecursively(dir);
    }

    @Test
    void gradescopeResults_haveTheDocumentedShape() throws Exception {
        List<Grader.Grade> grades = List.of(full("carol", "ProducerAtLeastOnce"), Grader.notHandedIn("carol", Exercise.ZOMBIE_FENCING));
        Path file = Files.createTempDirectory("gradescope-").resolve("results.json");
        new GradeReport(grades, List.of("ProducerAtLeastOnce", "ZombieFencing"), "test").writeGradescope(file);
        JsonObject root = JsonParser.parseString(Files.readString(file)).getAsJsonObject();
        assertEquals(10.0, root.get("score").getAsDouble(), 1e-9);
        double max = 0;
        for (JsonElement t : root.getAsJsonArray("tests")) {
            JsonObject test = t.getAsJsonObject();
            for (String key : List.of("name", "score", "max_score", "output")) assertTrue(test.has(key), key + " manque : " + test);
            assertTrue(test.get("score").getAsDouble() <= test.get("max_score").getAsDouble(), test.toString());
            max += test.get("max_score").getAsDouble();
        }
        assertEquals(20.0, max, 1e-6, "les tests valent 20 points en tout");
        kit.util.Folders.deleteRecursively(file.getParent());
    }

    @Test
    void vplLines_endWithTheGrade() {
        String vpl = new GradeReport(List.of(full("dan", "ProducerAtLeastOnce"), Grader.notHandedIn("dan", Exercise.ZOMBIE_FENCING)),
                List.of("ProducerAtLeastOnce", "ZombieFencing"), "test").vpl();
        List<String> lines = vpl.lines().toList();
        assertEquals("Grade :=>> 10.00", lines.get(lines.size() - 1));
        assertTrue(lines.stream().allMatch(l -> l.startsWith("Comment :=>>") || l.startsWith("Grade :=>>")), vpl);
        assertTrue(vpl.contains("non rendu"), vpl);
    }

    @Test
    void jbangDirectivesThatActAsTheTeacher_areRefused() {
        assertEquals(null, Grader.refusedDirective("//DEPS org.apache.kafka:kafka-clients:4.4.0\n//JAVA 17+\nclass A {}"));
        assertTrue(Grader.refusedDirective("//SOURCES ../bob/ProducerAtLeastOnce.java\nclass A {}").contains("//SOURCES"));
        assertTrue(Grader.refusedDirective("//FILES /root/.ssh/id_rsa\nclass A {}").contains("//FILES"));
        assertTrue(Grader.refusedDirective("//COMPILE_OPTIONS -Xplugin:Evil\nclass A {}").contains("refusée"));
        assertTrue(Grader.refusedDirective("//DEPS a:${env.CI_TOKEN}:1\nclass A {}").contains("${"));
    }
}
