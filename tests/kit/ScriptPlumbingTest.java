package kit;

import kit.grade.Exercise;
import kit.run.ScriptRunner;

import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The six scripts must stay self-contained (only //DEPS), so each carries the same small Plumbing class
 * (options, broker check, Ctrl-C, crash). This keeps the six copies identical: change one, change all.
 */
class ScriptPlumbingTest {

    /** The six scripts, then every exercise and solution: the same contract, so the same plumbing. */
    private static final List<Path> SCRIPTS = Stream.of("scripts", "solutions", "exercises")
            .flatMap(dir -> Arrays.stream(Exercise.values()).map(e -> Path.of(dir, e.fileName())))
            .filter(p -> Files.exists(ScriptRunner.root().resolve(p))).toList();

    @Test
    void everyScript_carriesTheSamePlumbing_andOnlyDeps() throws Exception {
        assertEquals(6 + 8 + 8, SCRIPTS.size(), "6 scripts, 8 corrigés, 8 exercices : " + SCRIPTS);
        String reference = null;
        for (Path name : SCRIPTS) {
            String text = Files.readString(ScriptRunner.root().resolve(name));
            int start = text.indexOf("    /** Options, broker check, Ctrl-C and crash");
            assertTrue(start > 0, name + " : bloc de plomberie introuvable");
            String plumbing = text.substring(start);
            if (reference == null) reference = plumbing;
            assertEquals(reference, plumbing, name + " : la plomberie diffère de celle de " + SCRIPTS.get(0));
            assertTrue(!text.contains("//SOURCES") && text.startsWith("///usr/bin/env jbang"), name + " : script autonome attendu");
        }
    }
}
