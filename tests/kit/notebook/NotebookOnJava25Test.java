package kit.notebook;

import kit.Java25;
import kit.lab.Lab;
import kit.run.ScriptRunner;
import kit.util.Folders;

import com.google.gson.JsonArray;
import com.google.gson.JsonParser;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A notebook on Java 25 (KIT_JAVA25_HOME): ./jbang kernel run on Java 25 installs a kernel that runs on it, and notebook
 * 00 (the shortest that loads the Kafka client and shared.jsh) runs on that kernel against a lab, as NotebooksTest
 * runs every notebook on Java 17.
 */
class NotebookOnJava25Test {

    private static final String NOTEBOOK = "00-demarrage.ipynb";

    @Test
    void notebook00_onAJava25Kernel_runsWithoutJvmWarnings() throws Exception {
        Map<String, String> java25 = Java25.env();
        NotebooksTest.requireJupyter();
        Path prefix = Files.createTempDirectory("jupyter-java25-");
        Path executed = Files.createTempDirectory("notebooks-java25-");
        try (Lab lab = Lab.start(1, 0, 0)) {
            ScriptRunner.Result kernel = ScriptRunner.jbang(Duration.ofMinutes(5), java25, "kernel", "--prefix", prefix.toString());
            assertEquals(0, kernel.exitCode(), kernel.describe());
            Java25.assertNoJvmNoise("./jbang kernel sous Java 25", kernel);
            Path spec = prefix.resolve("share/jupyter/kernels/java/kernel.json");
            JsonArray argv = JsonParser.parseString(Files.readString(spec)).getAsJsonObject().getAsJsonArray("argv");
            assertEquals(Java25.home().resolve("bin/java").toString(), argv.get(0).getAsString(), "le noyau tourne sur Java 25 : " + argv);
            // Kafka's clients may call sun.misc.Unsafe in the kernel too (their shaded protobuf): allowed without a warning
            assertEquals("--sun-misc-unsafe-memory-access=allow", argv.get(1).getAsString(), argv.toString());

            Java25.Jvms jvms = new Java25.Jvms();
            Map<String, String> env = Map.of("JUPYTER_PATH", prefix.resolve("share/jupyter").toString(),
                    "KAFKA_BOOTSTRAP_SERVERS", lab.bootstrapServers(), "KAFKA_LAB_CONTROL", lab.controlUrl());
            List<String> command = new ArrayList<>(List.of(NotebooksTest.PYTHON,
                    ScriptRunner.root().resolve("tests/notebooks/run_notebooks.py").toString(), executed.toString(),
                    ScriptRunner.root().resolve("notebooks").resolve(NOTEBOOK).toString()));
            ScriptRunner.Result run = ScriptRunner.run(command, ScriptRunner.root(), env, Duration.ofMinutes(5), jvms);
            assertEquals(0, run.exitCode(), run.describe());
            // the kernel's own stdout and stderr are the run's: a JVM warning would show here, as in a student's terminal
            Java25.assertNoJvmNoise("le noyau sous Java 25", run);
            jvms.assertAllJava25("le noyau");
            NotebooksTest.assertNoErrorNorStderr(executed.resolve(NOTEBOOK));
            String text = NotebooksTest.taggedOutput(executed.resolve(NOTEBOOK), null);
            assertTrue(text.contains("Tout est prêt"), "le notebook 00 voit Kafka et le labo :\n" + text);
        } finally {
            Folders.deleteRecursively(prefix);
            Folders.deleteRecursively(executed);
        }
    }
}
