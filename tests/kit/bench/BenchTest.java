package kit.bench;

import kit.run.ScriptRunner;
import kit.util.Folders;

import org.junit.jupiter.api.Test;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** ./jbang bench --quick as a class runs it: a CSV with every configuration, a real chart, the reference tool really run. */
class BenchTest {

    @Test
    void quickBench_writesAWellFormedCsvAndAChart_withTheReferenceBeside() throws Exception {
        Path out = Files.createTempDirectory("bench-");
        ScriptRunner.Result r = ScriptRunner.jbang(Duration.ofMinutes(5), "bench", "--quick", "--out", out.toString());
        assertEquals(0, r.exitCode(), r.describe());
        assertTrue(r.stdout().contains("ProducerPerformance de org.apache.kafka:kafka-tools:4.4.0"), r.describe());
        assertTrue(r.stdout().matches("(?s).*\\[\\d+/15\\] .*"), "une ligne de progression\n" + r.stdout());
        assertTrue(r.stdout().matches("(?s).*Coût d.une file \\(acquittement message par message, \\d+ octets\\) : \\d+\\.\\d\\d × .*"), r.stdout());

        List<String> lines = Files.readAllLines(out.resolve("bench.csv"));
        String[] header = lines.get(0).split(",");
        assertEquals(8, header.length, lines.get(0));
        List<String[]> rows = lines.subList(1, lines.size()).stream().map(l -> l.split(",", -1)).toList();
        for (String[] row : rows) assertEquals(header.length, row.length, String.join(",", row));
        for (Bench.Config c : Bench.Config.values()) {
            for (String size : List.of("100", "1024")) {
                String[] row = rows.stream().filter(x -> x[0].equals("\"" + c.french + "\"") && x[1].equals(size)).findFirst()
                        .orElseThrow(() -> new AssertionError(c.french + " " + size + " absent du CSV\n" + String.join("\n", lines)));
                assertTrue(Double.parseDouble(row[2]) > 0, "débit > 0 : " + String.join(",", row));
                assertTrue(Double.parseDouble(row[4]) > 0 && Double.parseDouble(row[5]) >= Double.parseDouble(row[4]), "latences : " + String.join(",", row));
                assertTrue(Double.parseDouble(row[6]) > 0, "la référence a tourné : " + String.join(",", row));
                assertTrue(Double.parseDouble(row[7]) > 0, "ratio rempli : " + String.join(",", row));
            }
        }
        for (String consumer : List.of("\"consommateur read_uncommitted\"", "\"consommateur read_committed\"",
                "\"consommateur at-least-once (groupe : commitSync par lot)\"", "\"consommateur de file (acquittement explicite)\"")) {
            String[] row = rows.stream().filter(x -> x[0].equals(consumer)).findFirst().orElseThrow(() -> new AssertionError(consumer));
            assertTrue(Double.parseDouble(row[2]) > 0 && Double.parseDouble(row[4]) >= 0, String.join(",", row));
        }

        BufferedImage png = ImageIO.read(out.resolve("bench.png").toFile());
        assertNotNull(png, "bench.png doit être une image");
        assertTrue(png.getWidth() >= 800 && png.getHeight() >= 400, png.getWidth() + "×" + png.getHeight());
        Folders.deleteRecursively(out);
    }

    @Test
    void badInput_isAUsageError_inFrench() {
        ScriptRunner.Result r = ScriptRunner.jbang(Duration.ofMinutes(2), "bench", "--count", "-5");
        assertEquals(2, r.exitCode(), r.describe());
        assertTrue(r.stderr().contains("--count doit valoir au moins 100"), r.describe());
        assertTrue(!r.stderr().contains("Exception"), r.describe());
    }

    /** --out is checked before the bench starts: a file in the way is refused at once, naming the folder, exit 2. */
    @Test
    void outFolder_underARegularFile_isRefusedBeforeMeasuring() throws Exception {
        Path file = Files.createTempFile("bench-fichier-", ".txt");
        try {
            for (Path out : List.of(file.resolve("resultats"), file)) {
                ScriptRunner.Result r = ScriptRunner.jbang(Duration.ofMinutes(2), "bench", "--quick", "--out", out.toString());
                assertEquals(2, r.exitCode(), r.describe());
                assertTrue(r.stderr().contains("--out") && r.stderr().contains("« " + out + " »")
                        && r.stderr().contains("est un fichier, pas un dossier"), r.describe());
                assertTrue(!r.stdout().contains("Démarrage") && !r.stdout().contains("Référence"), "rien n'est mesuré : " + r.describe());
                assertTrue(!r.stderr().contains("Exception") && !r.stderr().contains("\tat "), r.describe());
            }
        } finally {
            Files.deleteIfExists(file);
        }
    }
}
