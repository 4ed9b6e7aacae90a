package kit.grade;

import org.w3c.dom.Document;
import org.w3c.dom.Element;

import javax.xml.parsers.DocumentBuilderFactory;
import javax.xml.transform.OutputKeys;
import javax.xml.transform.TransformerFactory;
import javax.xml.transform.dom.DOMSource;
import javax.xml.transform.stream.StreamResult;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeSet;

/** The grades of a class, as a terminal table, report.md, report.csv (a row per student) and JUnit XML. */
public final class GradeReport {

    private final List<Grader.Grade> grades;
    private final List<String> students;
    private final List<String> exercises;

    public GradeReport(List<Grader.Grade> grades) {
        this.grades = grades;
        this.students = new ArrayList<>(new TreeSet<>(grades.stream().map(Grader.Grade::student).toList()));
        this.exercises = new ArrayList<>(new TreeSet<>(grades.stream().map(Grader.Grade::exercise).toList()));
    }

    /** The student's mark out of 20: the mean of their exercises. */
    public double studentScore(String student) {
        return grades.stream().filter(g -> g.student().equals(student)).mapToInt(Grader.Grade::score).average().orElse(0);
    }

    private Map<String, Grader.Grade> byExercise(String student) {
        Map<String, Grader.Grade> m = new LinkedHashMap<>();
        grades.stream().filter(g -> g.student().equals(student)).forEach(g -> m.put(g.exercise(), g));
        return m;
    }

    public String table() {
        StringBuilder out = new StringBuilder();
        for (String student : students) {
            out.append(String.format(Locale.ROOT, "%s : %.1f/20%n", student, studentScore(student)));
            for (Grader.Grade g : byExercise(student).values()) {
                out.append(String.format("  %-22s %2d/20  %s%n", g.exercise(), g.score(), g.passed() ? "✔" : "✘ " + g.firstProblem()));
            }
        }
        return out.toString();
    }

    public void write(Path dir) throws IOException {
        Files.createDirectories(dir);
        Files.writeString(dir.resolve("report.md"), markdown());
        Files.writeString(dir.resolve("report.csv"), csv());
        try {
            junit(dir.resolve("junit.xml"));
        } catch (Exception e) {
            throw new IOException("écriture du rapport JUnit impossible : " + e.getMessage(), e);
        }
    }

    String markdown() {
        StringBuilder md = new StringBuilder("# Correction\n\n| étudiant | note /20 | " + String.join(" | ", exercises) + " |\n|---|---|");
        exercises.forEach(e -> md.append("---|"));
        md.append('\n');
        for (String student : students) {
            Map<String, Grader.Grade> mine = byExercise(student);
            md.append(String.format(Locale.ROOT, "| %s | %.1f |", student, studentScore(student)));
            for (String e : exercises) md.append(' ').append(mine.containsKey(e) ? mine.get(e).score() + "/20" : "—").append(" |");
            md.append('\n');
        }
        for (String student : students) {
            md.append("\n## ").append(student).append('\n');
            for (Grader.Grade g : byExercise(student).values()) {
                md.append("\n### ").append(g.exercise()).append(" : ").append(g.score()).append("/20\n\n");
                for (Grader.Check c : g.checks()) {
                    md.append("- ").append(c.passed() ? "✔" : "✘").append(" **").append(c.name()).append("** (")
                            .append(c.points()).append(" pts) : ").append(c.feedback()).append('\n');
                }
            }
        }
        return md.toString();
    }

    /** One row per student, one column per exercise; absent exercises are empty cells. */
    String csv() {
        StringBuilder csv = new StringBuilder("etudiant,note_sur_20");
        exercises.forEach(e -> csv.append(',').append(e));
        csv.append('\n');
        for (String student : students) {
            Map<String, Grader.Grade> mine = byExercise(student);
            csv.append(quote(student)).append(String.format(Locale.ROOT, ",%.1f", studentScore(student)));
            for (String e : exercises) csv.append(',').append(mine.containsKey(e) ? String.valueOf(mine.get(e).score()) : "");
            csv.append('\n');
        }
        return csv.toString();
    }

    private static String quote(String s) {
        return s.contains(",") || s.contains("\"") || s.contains("\n") ? "\"" + s.replace("\"", "\"\"") + "\"" : s;
    }

    /** A testsuite per student, a testcase per check: what GitHub Classroom or GitLab read for autograding. */
    void junit(Path file) throws Exception {
        Document doc = DocumentBuilderFactory.newInstance().newDocumentBuilder().newDocument();
        Element suites = doc.createElement("testsuites");
        doc.appendChild(suites);
        for (String student : students) {
            Element suite = doc.createElement("testsuite");
            suite.setAttribute("name", student);
            int tests = 0;
            int failures = 0;
            for (Grader.Grade g : byExercise(student).values()) {
                for (Grader.Check c : g.checks()) {
                    Element tc = doc.createElement("testcase");
                    tc.setAttribute("classname", student + "." + g.exercise());
                    tc.setAttribute("name", c.name() + " (" + c.points() + " pts)");
                    if (!c.passed()) {
                        Element failure = doc.createElement("failure");
                        failure.setAttribute("message", c.feedback());
                        failure.setTextContent(c.feedback());
                        tc.appendChild(failure);
                        failures++;
                    }
                    suite.appendChild(tc);
                    tests++;
                }
            }
            suite.setAttribute("tests", String.valueOf(tests));
            suite.setAttribute("failures", String.valueOf(failures));
            suites.appendChild(suite);
        }
        var transformer = TransformerFactory.newInstance().newTransformer();
        transformer.setOutputProperty(OutputKeys.INDENT, "yes");
        transformer.setOutputProperty(OutputKeys.ENCODING, "UTF-8");
        transformer.transform(new DOMSource(doc), new StreamResult(file.toFile()));
    }
}
