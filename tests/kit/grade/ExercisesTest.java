package kit.grade;

import kit.run.ScriptRunner;
import kit.util.Folders;

import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** exercises/ and solutions/ pair up by file name, and each exercise is what the generator derives from its solution. */
class ExercisesTest {

    @Test
    void exercisesAndSolutions_shareFileNames_oneEachPerExercise() throws Exception {
        for (Exercise e : Exercise.values()) {
            assertTrue(Files.isRegularFile(ScriptRunner.root().resolve("exercises").resolve(e.fileName())), e.fileName());
            assertTrue(Files.isRegularFile(ScriptRunner.root().resolve("solutions").resolve(e.fileName())), e.fileName());
        }
        try (Stream<Path> s = Files.list(ScriptRunner.root().resolve("exercises"))) {
            assertEquals(Exercise.values().length, s.count(), "un exercice par fichier connu du correcteur");
        }
    }

    @Test
    void everyExercise_hasNumberedTodos_andIsWhatTheGeneratorWrites() throws Exception {
        Path copy = Files.createTempDirectory("exercices-generes-");
        ScriptRunner.Result gen = ScriptRunner.run(List.of("/usr/bin/python3", ScriptRunner.root().resolve("tooling/exercises/make_exercises.py").toString()),
                ScriptRunner.root(), Map.of("KIT_EXERCISES_OUT", copy.toString()), Duration.ofMinutes(1));
        assertEquals(0, gen.exitCode(), gen.describe());
        for (Exercise e : Exercise.values()) {
            String committed = Files.readString(ScriptRunner.root().resolve("exercises").resolve(e.fileName()));
            assertEquals(Files.readString(copy.resolve(e.fileName())), committed,
                    e.fileName() + " diffère du générateur : relancez tooling/exercises/make_exercises.py");
            assertTrue(committed.contains("// TODO 1 : "), e.fileName() + " : des TODO numérotés");
            assertTrue(committed.contains("// EXERCICE : "), e.fileName() + " : la consigne en tête");
        }
        Folders.deleteRecursively(copy);
    }
}
