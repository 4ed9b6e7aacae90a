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
    private final List<String> assignment;
    private final String isolation;

    /** For tests: the assignment is the exercises graded, the isolation unsaid. */
    public GradeReport(List<Grader.Grade> grades) {
        this(grades, new ArrayList<>(new TreeSet<>(grades.stream().map(Grader.Grade::exercise).toList())), "");
    }

    /**
     * {@code assignment}: the exercises every student had to hand in (class names); {@code isolation}: how the programs
     * ran, said in the report.
     */
    public GradeReport(List<Grader.Grade> grades, List<String> assignment, String isolation) {
        this.grades = grades;
        this.assignment = List.copyOf(assignment);
        this.isolation = isolation;
        this.students = new ArrayList<>(new TreeSet<>(grades.stream().map(Grader.Grade::student).toList()));
        // the assignment's columns first, in its order; then anything else handed in (unknown files), not counted
        List<String> cols = new ArrayList<>(assignment);
        new TreeSet<>(grades.stream().map(Grader.Grade::exercise).filter(e -> !assignment.contains(e)).toList()).forEach(cols::add);
        this.exercises = cols;
    }

    /**
     * The student's mark out of 20: the mean over the whole assignment, a missing exercise counting 0. Files outside
     * the assignment (unknown names) don't count.
     */
    public double studentScore(String student) {
        if (assignment.isEmpty()) return 0;
        Map<String, Grader.Grade> mine = byExercise(student);
        return assignment.stream().mapToInt(e -> mine.containsKey(e) ? mine.get(e).score() : 0).sum() / (double) assignment.size();
    }

    public List<String> students() { return students; }

    private Map<String, Grader.Grade> byExercise(String student) {
        Map<String, Grader.Grade> m = new LinkedHashMap<>();
        grades.stream().filter(g -> g.student().equals(student)).forEach(g -> m.put(g.exercise(), g));
        return m;
    }

    public String table() {
        StringBuilder out = new StringBuilder();
        if (!isolation.isEmpty()) out.append("Isolation des programmes : ").append(isolation).append('\n');
        for (String student : students) {
            out.append(String.format(Locale.ROOT, "%s : %.1f/20%n", student, studentScore(student)));
            for (Grader.Grade g : byExercise(student).values()) {
                out.append(String.format("  %-22s %2d/20  %s%n", g.exercise(), g.score(), g.passed() ? "✔" : "✘ " + clean(g.firstProblem())));
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
        StringBuilder md = new StringBuilder("# Correction\n\n");
        md.append("Note sur 20 : la moyenne des ").append(assignment.size()).append(" exercice(s) de la consigne (")
                .append(String.join(", ", assignment)).append(") ; un exercice non rendu compte 0.\n\n");
        if (!isolation.isEmpty()) md.append("Isolation des programmes : ").append(isolation).append(".\n\n");
        md.append("| étudiant | note /20 | " + String.join(" | ", exercises) + " |\n|---|---|");
        exercises.forEach(e -> md.append("---|"));
        md.append('\n');
        for (String student : students) {
            Map<String, Grader.Grade> mine = byExercise(student);
            md.append(String.format(Locale.ROOT, "| %s | %.1f |", clean(student), studentScore(student)));
            for (String e : exercises) md.append(' ').append(mine.containsKey(e) ? mine.get(e).score() + "/20" : "—").append(" |");
            md.append('\n');
        }
        for (String student : students) {
            md.append("\n## ").append(clean(student)).append('\n');
            for (Grader.Grade g : byExercise(student).values()) {
                md.append("\n### ").append(g.exercise()).append(" : ").append(g.score()).append("/20\n\n");
                for (Grader.Check c : g.checks()) {
                    md.append("- ").append(c.passed() ? "✔" : "✘").append(" **").append(c.name()).append("** (")
                            .append(c.points()).append(" pts) : ").append(clean(c.feedback())).append('\n');
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
            csv.append(quote(clean(student))).append(String.format(Locale.ROOT, ",%.1f", studentScore(student)));
            for (String e : exercises) csv.append(',').append(mine.containsKey(e) ? String.valueOf(mine.get(e).score()) : "");
            csv.append('\n');
        }
        return csv.toString();
    }

    /**
     * Text that came from a program (its stderr in a feedback) or a folder name, made safe for every report: no
     * character XML 1.0 forbids (a single one makes junit.xml unreadable), no other control character but tab and
     * newline, at most 2000 characters.
     */
    static String clean(String s) {
        if (s == null) return "";
        StringBuilder out = new StringBuilder(Math.min(s.length(), 2000));
        s.codePoints().limit(2000).forEach(cp -> {
            boolean xml = cp == 0x9 || cp == 0xA || cp == 0xD || (cp >= 0x20 && cp <= 0xD7FF) || (cp >= 0xE000 && cp <= 0xFFFD)
                    || (cp >= 0x10000 && cp <= 0x10FFFF);
            boolean control = (cp < 0x20 && cp != 0x9 && cp != 0xA) || (cp >= 0x7F && cp <= 0x9F) || cp == 0xD;
            out.appendCodePoint(xml && !control ? cp : '\uFFFD');
        });
        return out.toString();
    }

    private static String quote(String s) {
        return s.contains(",") || s.contains("\"") || s.contains("\n") ? "\"" + s.replace("\"", "\"\"") + "\"" : s;
    }

    /**
     * Gradescope's results.json: the mark out of 20 as {@code score}, and a test per check (per missing exercise too),
     * each worth its share of the 20 points: {@code name}, {@code score}, {@code max_score}, {@code output}.
     */
    void writeGradescope(Path file) throws IOException {
        com.google.gson.JsonObject root = new com.google.gson.JsonObject();
        com.google.gson.JsonArray tests = new com.google.gson.JsonArray();
        double total = 0;
        StringBuilder output = new StringBuilder();
        for (String student : students) {
            total += studentScore(student);
            output.append(String.format(Locale.ROOT, "%s : %.1f/20%n", clean(student), studentScore(student)));
            Map<String, Grader.Grade> mine = byExercise(student);
            for (String e : exercises) {
                Grader.Grade g = mine.get(e);
                if (g == null) continue;
                double share = assignment.contains(e) ? 1.0 / assignment.size() : 0;
                for (Grader.Check c : g.checks()) {
                    com.google.gson.JsonObject t = new com.google.gson.JsonObject();
                    t.addProperty("name", (students.size() > 1 ? clean(student) + " / " : "") + clean(e) + " : " + clean(c.name()));
                    t.addProperty("score", round(c.passed() ? c.points() * share : 0));
                    t.addProperty("max_score", round(c.points() * share));
                    t.addProperty("output", (c.passed() ? "✔ " : "✘ ") + clean(c.feedback()));
                    t.addProperty("visibility", "visible");
                    tests.add(t);
                }
            }
        }
        root.addProperty("score", round(students.isEmpty() ? 0 : total / students.size()));
        root.addProperty("output", output.toString() + (isolation.isEmpty() ? "" : "Isolation : " + isolation));
        root.addProperty("visibility", "visible");
        root.addProperty("stdout_visibility", "hidden");
        root.add("tests", tests);
        Files.createDirectories(file.toAbsolutePath().getParent());
        Files.writeString(file, new com.google.gson.GsonBuilder().setPrettyPrinting().disableHtmlEscaping().create().toJson(root));
    }

    private static double round(double x) { return Math.round(x * 100) / 100.0; }

    /** Moodle VPL's evaluation lines: a Comment :=>> per check, then Grade :=>> the mark out of 20. */
    String vpl() {
        StringBuilder out = new StringBuilder();
        double total = 0;
        for (String student : students) {
            total += studentScore(student);
            Map<String, Grader.Grade> mine = byExercise(student);
            for (String e : exercises) {
                Grader.Grade g = mine.get(e);
                if (g == null) continue;
                out.append("Comment :=>>").append(clean(e)).append(" : ").append(g.score()).append("/20\n");
                for (Grader.Check c : g.checks()) {
                    out.append("Comment :=>>  ").append(c.passed() ? "✔ " : "✘ ").append(clean(c.name())).append(" : ")
                            .append(clean(c.feedback()).replace('\n', ' ')).append('\n');
                }
            }
        }
        out.append(String.format(Locale.ROOT, "Grade :=>> %.2f%n", students.isEmpty() ? 0 : total / students.size()));
        return out.toString();
    }

    /** A testsuite per student, a testcase per check: what GitLab (or any CI reading JUnit XML) shows for autograding. */
    void junit(Path file) throws Exception {
        Document doc = DocumentBuilderFactory.newInstance().newDocumentBuilder().newDocument();
        Element suites = doc.createElement("testsuites");
        doc.appendChild(suites);
        for (String student : students) {
            Element suite = doc.createElement("testsuite");
            suite.setAttribute("name", clean(student));
            int tests = 0;
            int failures = 0;
            for (Grader.Grade g : byExercise(student).values()) {
                for (Grader.Check c : g.checks()) {
                    Element tc = doc.createElement("testcase");
                    tc.setAttribute("classname", clean(student) + "." + clean(g.exercise()));
                    tc.setAttribute("name", clean(c.name()) + " (" + c.points() + " pts)");
                    if (!c.passed()) {
                        Element failure = doc.createElement("failure");
                        failure.setAttribute("message", clean(c.feedback()));
                        failure.setTextContent(clean(c.feedback()));
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
