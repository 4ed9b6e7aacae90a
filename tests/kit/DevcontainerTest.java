package kit;

import kit.run.ScriptRunner;
import kit.util.Folders;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import com.google.gson.Strictness;
import com.google.gson.stream.JsonReader;
import org.junit.jupiter.api.Test;

import java.io.StringReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * .devcontainer/devcontainer.json, the kit in VS Code or a cloud IDE: its fields, and its postCreateCommand run here as
 * the container runs it, the kernel going into a temporary Jupyter data folder. apt-get is a stand-in that only
 * records what it is asked for (the test must not install system packages): only packages apt knows, none installed.
 */
class DevcontainerTest {

    private static JsonObject devcontainer() throws Exception {
        String text = Files.readString(ScriptRunner.root().resolve(".devcontainer/devcontainer.json"));
        JsonReader reader = new JsonReader(new StringReader(text));
        reader.setStrictness(Strictness.LENIENT); // JSONC: the spec allows // comments
        return JsonParser.parseReader(reader).getAsJsonObject();
    }

    @Test
    void devcontainer_hasJava17Maven_andForwardsTheLabsPorts() throws Exception {
        JsonObject dc = devcontainer();
        assertTrue(dc.get("image").getAsString().matches("mcr\\.microsoft\\.com/devcontainers/java:.*17.*"), dc.get("image").toString());
        JsonObject java = dc.getAsJsonObject("features").getAsJsonObject("ghcr.io/devcontainers/features/java:1");
        assertEquals("true", java.get("installMaven").getAsString(), "Maven, pour mvn -B test : " + java);
        List<Integer> ports = new ArrayList<>();
        dc.getAsJsonArray("forwardPorts").forEach(p -> ports.add(p.getAsInt()));
        assertEquals(List.of(9092, 9099), ports, "Kafka et le labo");
        assertFalse(dc.get("postCreateCommand").getAsString().isBlank());
    }

    @Test
    void postCreateCommand_installsTheJavaKernel_andAsksAptOnlyForMissingKnownPackages() throws Exception {
        String command = devcontainer().get("postCreateCommand").getAsString();
        Path dir = Files.createTempDirectory("devcontainer-");
        try {
            Path bin = Files.createDirectories(dir.resolve("bin"));
            Path asked = dir.resolve("apt-get.log");
            for (String tool : List.of("apt-get", "sudo")) {
                Path stub = bin.resolve(tool);
                Files.writeString(stub, tool.equals("sudo") ? "#!/bin/sh\nexec \"$@\"\n"
                        : "#!/bin/sh\necho \"$*\" >> '" + asked + "'\n");
                Files.setPosixFilePermissions(stub, PosixFilePermissions.fromString("rwxr-xr-x"));
            }
            Path data = dir.resolve("jupyter");
            Map<String, String> env = Map.of("PATH", bin + ":" + System.getenv("PATH"), "JUPYTER_DATA_DIR", data.toString());

            ScriptRunner.Result r = ScriptRunner.run(List.of("bash", "-c", command), ScriptRunner.root(), env, Duration.ofMinutes(5));
            assertEquals(0, r.exitCode(), r.describe());
            assertTrue(r.stdout().contains("Noyau « java » installé"), r.describe());

            List<String> requests = Files.exists(asked) ? Files.readAllLines(asked) : List.of();
            for (String request : requests) {
                if (!request.startsWith("install")) continue;
                for (String word : request.split(" ")) {
                    if (word.startsWith("-") || word.equals("install")) continue;
                    ScriptRunner.Result status = ScriptRunner.run(List.of("dpkg-query", "-W", "-f=${Status}", word), dir, Map.of(), Duration.ofSeconds(30));
                    assertFalse(status.stdout().contains("ok installed"), word + " est déjà installé : " + requests);
                    ScriptRunner.Result known = ScriptRunner.run(List.of("apt-cache", "show", "--no-all-versions", word), dir, Map.of(), Duration.ofSeconds(30));
                    assertTrue(known.stdout().contains("Package: " + word), word + " : paquet inconnu d'apt : " + known.describe());
                }
            }

            ScriptRunner.Result list = ScriptRunner.run(List.of("jupyter", "kernelspec", "list", "--json"), dir, env, Duration.ofMinutes(1));
            assertEquals(0, list.exitCode(), list.describe());
            JsonObject java = JsonParser.parseString(list.stdout()).getAsJsonObject().getAsJsonObject("kernelspecs").getAsJsonObject("java");
            assertTrue(java != null, "pas de noyau « java » : " + list.stdout());
            assertTrue(Path.of(java.get("resource_dir").getAsString()).startsWith(data), "installé dans JUPYTER_DATA_DIR : " + java);
            JsonArray argv = java.getAsJsonObject("spec").getAsJsonArray("argv");
            List<String> words = new ArrayList<>();
            for (JsonElement w : argv) words.add(w.getAsString());
            assertTrue(words.get(0).endsWith("/bin/java") && words.stream().anyMatch(w -> w.contains("ijava")), words.toString());
        } finally {
            Folders.deleteRecursively(dir);
        }
    }
}
