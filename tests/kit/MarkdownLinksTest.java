package kit;

import kit.run.ScriptRunner;

import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Every relative link of README.md and docs/ leads to something in the kit itself: a clone, a zip, needs nothing beside it. */
class MarkdownLinksTest {

    /** [text](target "title") and ![alt](target); then reference definitions: [id]: target. */
    private static final Pattern INLINE = Pattern.compile("!?\\[[^\\]]*\\]\\(\\s*(<[^>]*>|[^)\\s]+)[^)]*\\)");
    private static final Pattern REFERENCE = Pattern.compile("(?m)^ {0,3}\\[[^\\]]+\\]:\\s*(<[^>]*>|\\S+)");
    private static final Pattern SCHEME = Pattern.compile("^[a-zA-Z][a-zA-Z0-9+.-]*:");

    @Test
    void relativeLinks_inReadmeAndDocs_resolveInsideTheKit() throws Exception {
        Path root = ScriptRunner.root().toRealPath();
        List<Path> pages = new ArrayList<>(List.of(root.resolve("README.md")));
        try (Stream<Path> docs = Files.walk(root.resolve("docs"))) {
            docs.filter(p -> p.toString().endsWith(".md")).sorted().forEach(pages::add);
        }
        List<String> broken = new ArrayList<>();
        int checked = 0;
        for (Path page : pages) {
            for (String target : links(Files.readString(page))) {
                if (SCHEME.matcher(target).find() || target.startsWith("#")) continue;   // https:, mailto:, an anchor of the page
                String file = target.replaceFirst("[#?].*$", "");
                if (file.isEmpty()) continue;
                checked++;
                Path resolved = file.startsWith("/") ? root.resolve(file.substring(1)) : page.getParent().resolve(file);
                resolved = resolved.normalize();
                String where = root.relativize(page) + " → " + target;
                if (!Files.exists(resolved)) broken.add(where + " : introuvable");
                else if (!resolved.toRealPath().startsWith(root)) broken.add(where + " : hors du dépôt");
            }
        }
        assertTrue(checked > 0, "aucun lien relatif trouvé : le test ne vérifie rien");
        assertEquals(List.of(), broken, "liens Markdown cassés ou hors du dépôt");
    }

    /** The link targets of a Markdown page, code (fenced blocks, `spans`) left out. */
    static List<String> links(String markdown) {
        String text = markdown.replaceAll("(?ms)^ {0,3}(```|~~~).*?^ {0,3}\\1[^\\n]*$", "").replaceAll("`[^`\\n]*`", "");
        List<String> targets = new ArrayList<>();
        for (Pattern p : List.of(INLINE, REFERENCE)) {
            Matcher m = p.matcher(text);
            while (m.find()) {
                String t = m.group(1);
                targets.add(t.startsWith("<") ? t.substring(1, t.length() - 1) : t);
            }
        }
        return targets;
    }

    @Test
    void linkExtraction_findsInlineImageAndReferenceLinks_butNotCode() {
        String md = """
                Voir [le cours](docs/cours/SEMANTIQUES.md#producteur "titre") et ![un graphique](<bench/bench.png>).
                Le [`CONTRAT`](docs/CONTRAT.md), la [page](https://kafka.apache.org/) et [plus bas](#versions).
                [ref]: tooling/README.md
                ```bash
                echo "[pas un lien](nulle/part.md)"
                ```
                et `[pas non plus](ailleurs.md)`.
                """;
        assertEquals(List.of("docs/cours/SEMANTIQUES.md#producteur", "bench/bench.png", "docs/CONTRAT.md",
                "https://kafka.apache.org/", "#versions", "tooling/README.md"), links(md));
    }
}
