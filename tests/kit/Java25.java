package kit;

import kit.run.ScriptRunner;

import org.junit.jupiter.api.Assumptions;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The JDK 25 the kit is also tried on: {@code $KIT_JAVA25_HOME}, which bash .ci/run finds and exports. Without it,
 * the Java 25 tests are skipped, and say so: in the log and in the test report.
 */
public final class Java25 {

    /** What a JVM writes about itself, never what a student should read: Unsafe, restricted methods, picked-up options. */
    private static final List<String> JVM_NOISE = List.of("WARNING:", "sun.misc.Unsafe", "A restricted method", "Picked up ");

    private Java25() { }

    /** The JDK 25 home; aborts the calling test (skipped, with the reason) when there is none. */
    public static Path home() {
        String given = System.getenv("KIT_JAVA25_HOME");
        if (given == null || given.isBlank()) {
            String why = "KIT_JAVA25_HOME non réglé : le kit n'est pas essayé sous Java 25 "
                    + "(bash .ci/run le règle quand un JDK 25 est installé, par ex. /usr/lib/jvm/temurin-25-jdk-amd64)";
            System.err.println("\n*** JAVA 25 NON TESTÉ *** " + why + "\n");
            Assumptions.abort(why);
        }
        Path home = Path.of(given).toAbsolutePath();
        // set, but not a JDK 25: a mistake to report, not a skip
        ScriptRunner.Result v = ScriptRunner.run(List.of(home.resolve("bin/java").toString(), "-version"), Path.of("."), Map.of(),
                Duration.ofSeconds(60));
        assertEquals(0, v.exitCode(), "KIT_JAVA25_HOME=" + given + " : " + v.describe());
        assertTrue(v.stderr().matches("(?s).*version \"25[\".].*"), "KIT_JAVA25_HOME=" + given + " n'est pas un JDK 25 : " + v.describe());
        return home;
    }

    /** The environment that makes ./jbang and everything it starts run on Java 25. */
    public static Map<String, String> env() {
        return Map.of("JAVA_HOME", home().toString(), "KIT_IGNORE_PATH_JBANG", "1");
    }

    /** Fails if a JVM wrote something about itself in this output. */
    public static void assertNoJvmNoise(String what, ScriptRunner.Result r) {
        for (String line : (r.stdout() + "\n" + r.stderr()).lines().toList()) {
            for (String noise : JVM_NOISE) assertFalse(line.contains(noise), what + " : la JVM parle à l'étudiant : « " + line + " »\n" + r.describe());
        }
    }

    /**
     * The java executables a process and its descendants ran, sampled every 50 ms while it runs (from the kernel's
     * view of each process: /proc/PID/exe): which JVM really ran, whatever the launchers decided.
     */
    public static final class Jvms implements Consumer<Process> {
        private final Set<String> seen = ConcurrentHashMap.newKeySet();

        @Override
        public void accept(Process process) {
            Thread sampler = new Thread(() -> {
                while (process.isAlive()) {
                    Stream.concat(Stream.of(process.toHandle()), process.descendants())
                            .forEach(h -> h.info().command().filter(c -> c.endsWith("/java")).ifPresent(seen::add));
                    try {
                        Thread.sleep(50);
                    } catch (InterruptedException e) {
                        return;
                    }
                }
            }, "jvms");
            sampler.setDaemon(true);
            sampler.start();
        }

        /** At least one JVM ran, and every one was Java 25's. */
        public void assertAllJava25(String what) throws Exception {
            Path java = home().resolve("bin/java").toRealPath();
            assertFalse(seen.isEmpty(), what + " : aucune JVM observée");
            for (String s : seen) assertEquals(java, Path.of(s).toRealPath(), what + " : une JVM autre que Java 25 a tourné : " + seen);
        }
    }
}
