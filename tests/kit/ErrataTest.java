package kit;

import kit.run.ScriptRunner;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * docs/cours/ERRATA.md, the list of the course's wrong or loose sentences: each entry has its four parts and names a
 * section the course has; every notebook cell that quotes or names the course links it (with an anchor that exists);
 * the README links it.
 */
class ErrataTest {

    static final String ERRATA_FROM_NOTEBOOKS = "../docs/cours/ERRATA.md";
    private static final List<String> PARTS = List.of("**Le cours** (§ ", "**Ce qui est vrai** : ", "**Référence** : ",
            "**Où le kit le montre** : ");
    private static final Pattern ENTRY = Pattern.compile("(?m)^## (\\d+\\. .+)$");
    private static final Pattern LINK = Pattern.compile("\\]\\(" + Pattern.quote(ERRATA_FROM_NOTEBOOKS) + "(#[^)]*)?\\)");

    private static Path root() {
        return ScriptRunner.root();
    }

    /** The entries of the errata, heading → text up to the next entry, in order. */
    static Map<String, String> entries(String errata) {
        Map<String, String> entries = new LinkedHashMap<>();
        Matcher m = ENTRY.matcher(errata);
        String title = null;
        int start = 0;
        while (m.find()) {
            if (title != null) entries.put(title, errata.substring(start, m.start()));
            title = m.group(1);
            start = m.end();
        }
        if (title != null) entries.put(title, errata.substring(start));
        return entries;
    }

    /** The anchor GitHub gives a heading: lower case, punctuation dropped, spaces to hyphens. */
    static String anchor(String heading) {
        return heading.toLowerCase(Locale.ROOT).replaceAll("[^\\p{L}\\p{N} _-]", "").replace(' ', '-');
    }

    @Test
    void errataEntries_eachHaveTheFourParts_andNameASectionOfTheCourse() throws Exception {
        String errata = Files.readString(root().resolve("docs/cours/ERRATA.md"));
        String course = Files.readString(root().resolve("docs/cours/SEMANTIQUES.md"));
        Set<String> sections = new TreeSet<>();
        Matcher h = Pattern.compile("(?m)^## (.+?)\\s*$").matcher(course);
        while (h.find()) sections.add(h.group(1));
        Map<String, String> entries = entries(errata);
        assertTrue(entries.size() >= 10, "l'errata doit avoir ses entrées (## N. titre) : " + entries.keySet());
        List<String> wrong = new ArrayList<>();
        for (var e : entries.entrySet()) {
            String text = e.getValue();
            int at = -1;
            for (String part : PARTS) {
                int i = text.indexOf(part);
                if (i < 0 || i < at) wrong.add(e.getKey() + " : « " + part.trim() + " » manque, ou n'est pas à sa place");
                at = Math.max(at, i);
            }
            Matcher where = Pattern.compile("\\*\\*Le cours\\*\\* \\(([^)]*)\\) : «").matcher(text);
            if (!where.find()) {
                wrong.add(e.getKey() + " : « **Le cours** (§ section) : « … » » attendu");
                continue;
            }
            for (String section : where.group(1).split(",\\s+")) {
                // « § X », or « § X, côté consommateur », « § X, et les deux suivants »: the section is X
                if (!section.startsWith("§ ")) continue;
                String name = section.substring(2);
                if (!sections.contains(name)) wrong.add(e.getKey() + " : « § " + name + " » n'est pas une section du cours " + sections);
            }
            // the course's words, verbatim: every « … » of the paragraph is in the course (« […] » marks a cut)
            String quoted = text.substring(where.start(), text.indexOf(PARTS.get(1)) < 0 ? text.length() : text.indexOf(PARTS.get(1)));
            Matcher q = Pattern.compile("«\\s*(.+?)\\s*»", Pattern.DOTALL).matcher(quoted.substring(quoted.indexOf(": «") + 2));
            while (q.find()) {
                for (String piece : q.group(1).split("\\[…\\]")) {
                    if (!normalize(course).contains(normalize(piece))) wrong.add(e.getKey() + " : « " + piece.trim() + " » n'est pas dans le cours");
                }
            }
        }
        assertEquals(List.of(), wrong, "docs/cours/ERRATA.md");
    }

    /** Text compared without code marks nor line breaks: « `a`  b » and « a b » are the same words. */
    static String normalize(String text) {
        return text.replace("`", "").replaceAll("\\s+", " ").trim();
    }

    @Test
    void notebookCellsQuotingTheCourse_linkTheErrata_withAnchorsThatExist() throws Exception {
        Set<String> anchors = new TreeSet<>();
        for (String heading : entries(Files.readString(root().resolve("docs/cours/ERRATA.md"))).keySet()) anchors.add("#" + anchor(heading));
        List<String> wrong = new ArrayList<>();
        int quoting = 0;
        List<Path> notebooks;
        try (Stream<Path> s = Files.list(root().resolve("notebooks"))) {
            notebooks = s.filter(p -> p.toString().endsWith(".ipynb")).sorted().toList();
        }
        for (Path nb : notebooks) {
            int index = 0;
            for (JsonElement c : JsonParser.parseString(Files.readString(nb)).getAsJsonObject().getAsJsonArray("cells")) {
                index++;
                JsonObject cell = c.getAsJsonObject();
                if (!"markdown".equals(cell.get("cell_type").getAsString())) continue;
                String text = source(cell);
                Matcher link = LINK.matcher(text);
                boolean linked = false;
                while (link.find()) {
                    linked = true;
                    if (link.group(1) != null && !anchors.contains(link.group(1))) {
                        wrong.add(nb.getFileName() + ", cellule " + index + " : l'ancre " + link.group(1) + " n'existe pas dans l'errata");
                    }
                }
                if (!quotesTheCourse(text)) continue;
                quoting++;
                if (!linked) wrong.add(nb.getFileName() + ", cellule " + index + " cite le cours sans lien vers " + ERRATA_FROM_NOTEBOOKS);
            }
        }
        assertTrue(quoting >= 8, "les notebooks citent le cours (01 à 07, et 00 le nomme) : " + quoting + " cellule(s) trouvée(s)");
        assertEquals(List.of(), wrong, "notebooks/*.ipynb");
    }

    /** A cell quotes the course when it has a block quote, or names it (« le cours », « du cours »). */
    static boolean quotesTheCourse(String markdown) {
        return Pattern.compile("(?m)^>").matcher(markdown).find() || Pattern.compile("(?i)\\b(le|du) cours\\b").matcher(markdown).find();
    }

    @Test
    void readme_linksTheErrata() throws Exception {
        assertTrue(MarkdownLinksTest.links(Files.readString(root().resolve("README.md"))).contains("docs/cours/ERRATA.md"),
                "README.md doit renvoyer à docs/cours/ERRATA.md");
    }

    private static String source(JsonObject cell) {
        JsonElement src = cell.get("source");
        if (!src.isJsonArray()) return src.getAsString();
        StringBuilder text = new StringBuilder();
        src.getAsJsonArray().forEach(x -> text.append(x.getAsString()));
        return text.toString();
    }
}
