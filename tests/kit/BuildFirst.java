package kit;

import kit.run.ScriptRunner;

import org.junit.platform.launcher.LauncherSession;
import org.junit.platform.launcher.LauncherSessionListener;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.stream.Stream;

/**
 * Builds, once, before any test, what both lanes of the suite (pom.xml) launch through JBang: the kit's commands
 * (tooling/Kit.java) and the scripts. Two JBang processes building the same source for the first time at once can leave
 * a broken jar in JBang's cache; built here first, every later launch finds it built.
 */
public final class BuildFirst implements LauncherSessionListener {

    @Override
    public void launcherSessionOpened(LauncherSession session) {
        Path root;
        try {
            root = ScriptRunner.root();
        } catch (IllegalStateException e) {
            return;
        }
        List<Path> sources = new ArrayList<>(List.of(root.resolve("tooling").resolve("Kit.java")));
        for (String dir : List.of("scripts", "scripts/db")) {
            try (Stream<Path> s = Files.list(root.resolve(dir))) {
                s.filter(p -> p.toString().endsWith(".java")).sorted().forEach(sources::add);
            } catch (java.io.IOException e) {
                // a folder missing: nothing of it to build
            }
        }
        long t0 = System.nanoTime();
        ExecutorService two = Executors.newFixedThreadPool(2);
        try {
            List<CompletableFuture<String>> builds = sources.stream().map(source -> CompletableFuture.supplyAsync(() -> {
                ScriptRunner.Result r = ScriptRunner.jbang(Duration.ofMinutes(5), "build", root.relativize(source).toString());
                return r.exitCode() == 0 ? null : root.relativize(source) + " : " + r.describe();
            }, two)).toList();
            List<String> failed = builds.stream().map(CompletableFuture::join).filter(f -> f != null).toList();
            // a failed build is not this listener's to judge: the tests that launch it will say what is wrong
            failed.forEach(f -> System.out.println("[BuildFirst] construction en échec : " + f));
        } finally {
            two.shutdownNow();
        }
        System.out.printf("[BuildFirst] %d sources construites par JBang en %.0f s%n", sources.size(), (System.nanoTime() - t0) / 1e9);
    }
}
