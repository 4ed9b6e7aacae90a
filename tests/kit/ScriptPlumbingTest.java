package kit;

import kit.grade.Exercise;
import kit.run.ScriptRunner;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The six scripts must stay self-contained (only //DEPS), so each carries the same small Plumbing class
 * (options, broker check, Ctrl-C, crash). This keeps the six copies identical: change one, change all.
 */
class ScriptPlumbingTest {

    /** Scripts that are not exercises but follow the same contract. */
    private static final List<Path> BEYOND_THE_COURSE = List.of(Path.of("scripts", "ShareConsumer.java"));

    /** The six scripts, then every exercise and solution, then the scripts beyond the course: the same contract, so the same plumbing. */
    private static final List<Path> SCRIPTS = Stream.concat(Stream.of("scripts", "solutions", "exercises")
            .flatMap(dir -> Arrays.stream(Exercise.values()).map(e -> Path.of(dir, e.fileName())))
            .filter(p -> Files.exists(ScriptRunner.root().resolve(p))), BEYOND_THE_COURSE.stream()).toList();

    @Test
    void everyScript_carriesTheSamePlumbing_andOnlyDeps() throws Exception {
        assertEquals(6 + 10 + 10 + BEYOND_THE_COURSE.size(), SCRIPTS.size(), "6 scripts, 10 corrigés, 10 exercices, et les autres : " + SCRIPTS);
        String reference = null;
        for (Path name : SCRIPTS) {
            String text = Files.readString(ScriptRunner.root().resolve(name));
            // from the plumbing marker down: randomRunId and the Plumbing class, copied in every file
            int start = text.indexOf("    // ---- plomberie");
            assertTrue(start > 0 && text.indexOf("    /** Options, broker check, Ctrl-C and crash") > start,
                    name + " : bloc de plomberie introuvable");
            String plumbing = text.substring(start);
            if (reference == null) reference = plumbing;
            assertEquals(reference, plumbing, name + " : la plomberie diffère de celle de " + SCRIPTS.get(0));
            assertTrue(!text.contains("//SOURCES") && text.startsWith("///usr/bin/env jbang"), name + " : script autonome attendu");
        }
    }

    /** The consumers' IdleClock is copied too: the same text in every consumer. */
    @Test
    void everyConsumer_carriesTheSameIdleClock() throws Exception {
        String reference = null;
        int consumers = 0;
        for (Path name : SCRIPTS) {
            String text = Files.readString(ScriptRunner.root().resolve(name));
            int start = text.indexOf("    /**\n     * Stops the loop after idleMs of silence");
            if (!text.contains("class IdleClock")) continue;
            assertTrue(start > 0, name + " : IdleClock sans son commentaire");
            int end = text.indexOf("\n    }\n", start);
            String clock = text.substring(start, end);
            consumers++;
            if (reference == null) reference = clock;
            assertEquals(reference, clock, name + " : IdleClock diffère");
        }
        assertEquals(3 + 5 + 5, consumers, "3 consommateurs du cours, 5 corrigés et 5 exercices consommateurs");
    }

    /** scripts/db: the same Plumbing and IdleClock as the six, and the same Database block in each. */
    @Test
    void dbScripts_carryThePlumbing_theIdleClock_andOneDatabaseBlock() throws Exception {
        Path root = ScriptRunner.root();
        String reference = Files.readString(root.resolve("scripts/ConsumerAtLeastOnce.java"));
        String database = null;
        List<String> names = List.of("ConsumerDbAtLeastOnce.java", "ConsumerDbExactlyOnce.java");
        for (String name : names) {
            String text = Files.readString(root.resolve("scripts/db").resolve(name));
            assertTrue(!text.contains("//SOURCES") && text.startsWith("///usr/bin/env jbang"), name + " : script autonome attendu");
            for (String from : List.of("    // ---- plomberie", "    /**\n     * Stops the loop after idleMs of silence")) {
                int start = text.indexOf(from);
                assertTrue(start > 0, name + " : bloc introuvable : " + from);
                String block = text.substring(start, text.indexOf("\n    }\n", start));
                int refStart = reference.indexOf(from);
                assertEquals(reference.substring(refStart, reference.indexOf("\n    }\n", refStart)), block, name + " : diffère de ConsumerAtLeastOnce");
            }
            assertEquals(reference.substring(reference.indexOf("    // ---- plomberie")), text.substring(text.indexOf("    // ---- plomberie")),
                    name + " : la plomberie diffère de celle des six");
            int start = text.indexOf("    // ---- base de données");
            assertTrue(start > 0, name + " : bloc Database introuvable");
            String block = text.substring(start, text.indexOf("    // ---- plomberie"));
            if (database == null) database = block;
            assertEquals(database, block, name + " : le bloc Database diffère de celui de " + names.get(0));
        }
        // the exercise's solution is the script itself, a real copy (as for the six)
        assertEquals(-1L, Files.mismatch(root.resolve("scripts/db/ConsumerDbExactlyOnce.java"), root.resolve("solutions/ConsumerDbExactlyOnce.java")),
                "solutions/ConsumerDbExactlyOnce.java diffère de scripts/db/ConsumerDbExactlyOnce.java : recopiez-le, puis relancez "
                        + "tooling/exercises/make_exercises.py");
    }

    /**
     * The six solutions are the course's scripts, as real copies (a symbolic link breaks on Windows, in zip
     * downloads and in some LMS uploads): change a script, copy it over its solution, then rerun
     * tooling/exercises/make_exercises.py.
     */
    @Test
    void sixSolutions_areByteIdenticalCopiesOfTheScripts() throws Exception {
        Path root = ScriptRunner.root();
        List<Path> scripts;
        try (Stream<Path> s = Files.list(root.resolve("scripts"))) {
            scripts = s.filter(p -> p.toString().endsWith(".java"))
                    .filter(p -> !BEYOND_THE_COURSE.contains(root.relativize(p))).sorted().toList();
        }
        assertEquals(6, scripts.size(), "six scripts du cours : " + scripts);
        for (Path script : scripts) {
            Path solution = root.resolve("solutions").resolve(script.getFileName());
            assertFalse(Files.isSymbolicLink(solution), solution + " est un lien symbolique : il faut une vraie copie de " + script);
            assertTrue(Files.isRegularFile(solution), solution + " manque : copiez-y " + script);
            assertEquals(-1L, Files.mismatch(script, solution),
                    solution + " diffère de " + script + " : recopiez le script (cp " + root.relativize(script) + " "
                            + root.relativize(solution) + "), puis relancez tooling/exercises/make_exercises.py");
        }
    }

    /** No symbolic links anywhere in the kit (outside .git and Maven's target). */
    @Test
    void noSymbolicLinks_inTheKit() throws Exception {
        Path root = ScriptRunner.root();
        Set<Path> skipped = Set.of(root.resolve(".git"), root.resolve("target"));
        List<Path> links = new ArrayList<>();
        Files.walkFileTree(root, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) {
                return skipped.contains(dir) ? FileVisitResult.SKIP_SUBTREE : FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) {
                if (attrs.isSymbolicLink()) links.add(root.relativize(file));
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFileFailed(Path file, IOException e) {
                return FileVisitResult.CONTINUE;
            }
        });
        assertEquals(List.of(), links, "liens symboliques : remplacez-les par de vraies copies");
    }
}
