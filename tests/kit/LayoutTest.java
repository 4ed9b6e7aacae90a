package kit;

import kit.run.ScriptRunner;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** README's layout table names exactly the tooling packages that exist, and tooling/README.md lists each of them. */
class LayoutTest {

    @Test
    void readmeLayoutTable_matchesToolingFolders() throws IOException {
        Path kit = ScriptRunner.root().resolve("tooling").resolve("kit");
        Set<String> folders = new TreeSet<>();
        try (Stream<Path> dirs = Files.list(kit)) {
            dirs.filter(Files::isDirectory).forEach(d -> folders.add(d.getFileName().toString()));
        }
        String readme = Files.readString(ScriptRunner.root().resolve("README.md"));
        Set<String> named = new TreeSet<>();
        Matcher row = Pattern.compile("(?m)^\\| `tooling/kit/([a-z]+)/`(.*?)\\|").matcher(readme);
        while (row.find()) {
            named.add(row.group(1));
            Matcher more = Pattern.compile("`([a-z]+)/`").matcher(row.group(2));
            while (more.find()) named.add(more.group(1));
        }
        assertEquals(folders, named, "README (Organisation) et tooling/kit/ ne nomment pas les mêmes paquets");

        String guide = Files.readString(ScriptRunner.root().resolve("tooling").resolve("README.md"));
        Set<String> inGuide = new TreeSet<>();
        Matcher pkg = Pattern.compile("`kit\\.([a-z]+)`").matcher(guide);
        while (pkg.find()) inGuide.add(pkg.group(1));
        assertEquals(folders, inGuide, "tooling/README.md ne décrit pas chaque paquet");
    }

    /**
     * A class of the suite's second lane (pom.xml) runs beside the others; its own methods must still run one at a time,
     * on its one cluster: PER_CLASS does that (JUnit then runs them in the class's thread).
     */
    @Test
    void everyClassOfTheSecondLane_runsItsMethodsOneAtATime() throws IOException {
        Set<String> wrong = new TreeSet<>();
        int lane = 0;
        try (Stream<Path> files = Files.walk(ScriptRunner.root().resolve("tests"))) {
            for (Path f : files.filter(p -> p.toString().endsWith(".java")).toList()) {
                String text = Files.readString(f);
                if (!text.contains("@Execution(ExecutionMode.CONCURRENT)")) continue;
                lane++;
                if (!text.contains("@TestInstance(TestInstance.Lifecycle.PER_CLASS)")) wrong.add(f.getFileName().toString());
            }
        }
        assertEquals(Set.of(), wrong, "classes CONCURRENT sans PER_CLASS : leurs méthodes tourneraient ensemble");
        org.junit.jupiter.api.Assertions.assertTrue(lane >= 1, "la seconde file est vide");
    }
}
