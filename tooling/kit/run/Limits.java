package kit.run;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.UUID;

/**
 * What one run of a student's program may use, so that no submission stops the class's grading or the teacher's
 * machine: a Java heap the grader sets; where cgroups can be made (Linux, as root or with a delegated cgroup v2), a
 * count of processes and threads and a memory bound for the run's whole tree (the other JVMs it may start included);
 * with prlimit, CPU seconds and the size of one file per process; with bubblewrap, size-limited in-memory folders for
 * the working folder, HOME and /tmp. The output is bounded by {@link ScriptRunner}. A limit hit is said in French.
 */
final class Limits {

    /** The Java heap of a run: Kafka's clients need a few tens of MiB (the producer's buffer is 32 MiB by default). */
    static final int HEAP_MIB = 256;
    /** The run's whole tree: its JVM (heap, metaspace, code, threads), socat, and its in-memory folders. */
    static final long MEMORY_BYTES = 1024L * 1024 * 1024;
    /** Processes and threads of the run's tree: a solution's runs had 24 at most (sampled every 0.5 s in its cgroup). */
    static final int TASKS = 400;
    /** Each in-memory folder (working folder, HOME, /tmp). */
    static final long TMPFS_BYTES = 64L * 1024 * 1024;
    /** One file, anywhere (the cell's own folder included). */
    static final long FILE_BYTES = 32L * 1024 * 1024;
    /**
     * The cell's own folder, on disk and kept from one run of a submission to the next (the files the grader hands it,
     * a journal): what all its files may hold together, and how many files and folders there may be. A solution writes
     * a few KiB there, in a few dozen entries (one folder per run).
     */
    static final long CELL_BYTES = 64L * 1024 * 1024;
    static final int CELL_FILES = 1000;
    /** How often the cell's folder is measured while a run goes. */
    static final Duration CELL_WATCH = Duration.ofMillis(250);
    /** CPU seconds of one process, beyond its run's time limit: a correct run uses a fraction of its wall time. */
    static final int CPU_MARGIN_SECONDS = 10;

    private Limits() { }

    /** In French, for the report: what is limited, and what is not. */
    static String describe(Cgroups cgroups, boolean prlimit, boolean bubblewrap) {
        List<String> on = new ArrayList<>(List.of("tas Java " + HEAP_MIB + " Mio", "sortie 2 Mio"));
        List<String> off = new ArrayList<>();
        if (cgroups != Cgroups.NONE) {
            on.add(TASKS + " processus et fils d'exécution");
            on.add("mémoire " + MEMORY_BYTES / (1024 * 1024) + " Mio (cgroup v" + cgroups.version + ")");
        } else {
            off.add("processus");
            off.add("mémoire hors tas Java");
        }
        if (prlimit) on.add("temps CPU, fichiers de " + FILE_BYTES / (1024 * 1024) + " Mio au plus");
        else off.add("temps CPU, taille des fichiers");
        if (bubblewrap) on.add("dossier de travail, HOME et /tmp de " + TMPFS_BYTES / (1024 * 1024) + " Mio chacun");
        else off.add("espace disque du dossier de travail");
        on.add("dossier du rendu : " + CELL_BYTES / (1024 * 1024) + " Mio et " + CELL_FILES + " fichiers et dossiers (mesuré toutes les "
                + CELL_WATCH.toMillis() + " ms)");
        return String.join(", ", on) + (off.isEmpty() ? "" : " ; non limités ici : " + String.join(", ", off));
    }

    /**
     * {@code java …} with the grader's heap bound after every other JVM option (before {@code -classpath}): the JVM
     * takes the last, so a {@code -Xmx20g} of the submission's //JAVA_OPTIONS does not win.
     */
    static List<String> withHeap(List<String> command) {
        String exe = Path.of(command.get(0)).getFileName().toString().toLowerCase(Locale.ROOT);
        if (!exe.equals("java") && !exe.equals("java.exe")) return command;
        List<String> all = new ArrayList<>(command);
        int at = all.indexOf("-classpath");
        all.add(at > 0 ? at : 1, "-Xmx" + HEAP_MIB + "m");
        return all;
    }

    /** {@code wrapped}, started in the run's cgroups and under prlimit's limits (both outside the sandbox). */
    static List<String> outside(List<String> wrapped, Run run, Path prlimit, Duration timeout) {
        List<String> all = new ArrayList<>();
        if (run != null && !run.procs.isEmpty()) {
            all.addAll(List.of("/bin/sh", "-c", "while [ \"$1\" != -- ]; do echo $$ > \"$1\" || exit 125; shift; done; shift; exec \"$@\"", "sh"));
            run.procs.forEach(p -> all.add(p.toString()));
            all.add("--");
        }
        if (prlimit != null) {
            long cpu = Math.max(1, timeout.toSeconds()) + CPU_MARGIN_SECONDS;
            all.addAll(List.of(prlimit.toString(), "--cpu=" + cpu + ":" + (cpu + 5), "--fsize=" + FILE_BYTES + ":" + FILE_BYTES));
        }
        all.addAll(wrapped);
        return all;
    }

    /** The limit {@code r} hit, if any, as its French reason. */
    static ScriptRunner.Result explain(ScriptRunner.Result r, Run run) {
        String why = null;
        String err = r.stderr() + "\n" + r.stdout();
        if (run != null && run.hit("pids.events", "max ")) {
            why = "limite de processus atteinte (" + TASKS + " processus et fils d'exécution ; fork bomb ?)";
        } else if (run != null && (run.hit("memory.events", "oom_kill ") || run.hit("memory.oom_control", "oom_kill "))) {
            why = "limite de mémoire atteinte (" + MEMORY_BYTES / (1024 * 1024) + " Mio pour le programme et ce qu'il lance) : programme tué";
        } else if (err.contains("java.lang.OutOfMemoryError")) {
            why = "mémoire épuisée (OutOfMemoryError : tas Java limité à " + HEAP_MIB + " Mio)";
        } else if (r.exitCode() == 128 + 24 || r.exitCode() == 128 + 9 && err.contains("CPU time limit")) {
            why = "limite de temps CPU atteinte : programme tué";
        } else if (err.contains("File too large") || r.exitCode() == 128 + 25) {
            why = "limite de taille de fichier atteinte (" + FILE_BYTES / (1024 * 1024) + " Mio par fichier) : écriture refusée";
        } else if (err.contains("No space left on device")) {
            why = "dossier plein (" + TMPFS_BYTES / (1024 * 1024) + " Mio pour le dossier de travail, HOME et /tmp) : écriture refusée";
        } else if (r.truncated() && !r.timedOut()) {
            why = "sortie trop volumineuse (plus de 2 Mio sur stdout ou stderr) : programme arrêté, sortie tronquée";
        }
        return why == null ? r : r.withLimit(why);
    }

    /**
     * Measures the cell's folder every {@link #CELL_WATCH} while a run goes, and stops the run's process tree once the
     * folder holds more than {@link #CELL_BYTES} or {@link #CELL_FILES} files: a program that writes file after file, each
     * under the size limit of one file, cannot fill the teacher's disk. A mount point inside the folder (the run's own
     * folder and HOME, size-limited in memory under bubblewrap) is empty seen from here, and counts nothing.
     */
    static final class DiskWatch implements AutoCloseable {
        private static final java.util.concurrent.ScheduledExecutorService CLOCK =
                java.util.concurrent.Executors.newSingleThreadScheduledExecutor(r -> {
                    Thread t = new Thread(r, "surveillance-disque");
                    t.setDaemon(true);
                    return t;
                });
        private final Path folder;
        private final java.util.concurrent.atomic.AtomicReference<Process> process = new java.util.concurrent.atomic.AtomicReference<>();
        private final java.util.concurrent.ScheduledFuture<?> task;
        private volatile String hit;

        DiskWatch(Path folder) {
            this.folder = folder;
            this.task = CLOCK.scheduleWithFixedDelay(this::measure, CELL_WATCH.toMillis(), CELL_WATCH.toMillis(),
                    java.util.concurrent.TimeUnit.MILLISECONDS);
        }

        /** The run's process, once started: the one stopped when the folder is over its bounds. */
        void started(Process p) { process.set(p); }

        /** Why the run was stopped (in French), or null. */
        String hit() {
            measure();
            return hit;
        }

        private synchronized void measure() {
            if (hit != null) return;
            long[] seen = new long[2];
            try {
                Files.walkFileTree(folder, new java.nio.file.SimpleFileVisitor<>() {
                    @Override
                    public java.nio.file.FileVisitResult preVisitDirectory(Path dir, java.nio.file.attribute.BasicFileAttributes attrs) {
                        // a folder counts as a file: folder after folder would fill the disk's inodes just the same
                        seen[1]++;
                        return seen[1] > CELL_FILES ? java.nio.file.FileVisitResult.TERMINATE : java.nio.file.FileVisitResult.CONTINUE;
                    }

                    @Override
                    public java.nio.file.FileVisitResult visitFile(Path file, java.nio.file.attribute.BasicFileAttributes attrs) {
                        seen[0] += attrs.size();
                        seen[1]++;
                        return seen[0] > CELL_BYTES || seen[1] > CELL_FILES
                                ? java.nio.file.FileVisitResult.TERMINATE : java.nio.file.FileVisitResult.CONTINUE;
                    }

                    @Override
                    public java.nio.file.FileVisitResult visitFileFailed(Path file, IOException e) {
                        return java.nio.file.FileVisitResult.CONTINUE;
                    }
                });
            } catch (IOException | RuntimeException e) {
                return;
            }
            if (seen[0] <= CELL_BYTES && seen[1] <= CELL_FILES) return;
            hit = "dossier du rendu trop rempli (plus de " + CELL_BYTES / (1024 * 1024) + " Mio ou de " + CELL_FILES
                    + " fichiers et dossiers, pour tous les lancements du rendu) : programme arrêté";
            Process p = process.get();
            if (p != null) ScriptRunner.killTree(p.toHandle());
        }

        @Override
        public void close() { task.cancel(false); }
    }

    /** Where cgroups can be made, and which version. */
    record Cgroups(int version, List<Path> roots) {
        static final Cgroups NONE = new Cgroups(0, List.of());

        /** v1 (a pids and a memory hierarchy) or v2 (this process's own cgroup, if its children get both controllers). */
        static Cgroups detect() {
            if (!System.getProperty("os.name", "").toLowerCase(Locale.ROOT).contains("linux")) return NONE;
            Path base = Path.of("/sys/fs/cgroup");
            Cgroups v1 = new Cgroups(1, List.of(base.resolve("pids"), base.resolve("memory")));
            if (v1.works()) return v1;
            try {
                if (Files.exists(base.resolve("cgroup.controllers"))) {
                    for (String line : Files.readAllLines(Path.of("/proc/self/cgroup"))) {
                        if (!line.startsWith("0::")) continue;
                        Path own = base.resolve(line.substring(3).replaceFirst("^/", ""));
                        Cgroups v2 = new Cgroups(2, List.of(own));
                        if (v2.works()) return v2;
                    }
                }
            } catch (IOException | RuntimeException ignored) {
                // no cgroup v2 of ours
            }
            return NONE;
        }

        private boolean works() {
            Run probe = Run.start(this);
            boolean ok = probe != null && !probe.procs.isEmpty();
            if (probe != null) probe.close();
            return ok;
        }
    }

    /** One run's cgroups: made before, read and removed after. */
    static final class Run implements AutoCloseable {
        private final List<Path> dirs = new ArrayList<>();
        final List<Path> procs = new ArrayList<>();

        /** New cgroups with the limits written, or null if they cannot be made (then nothing is left behind). */
        static Run start(Cgroups cgroups) {
            if (cgroups == Cgroups.NONE) return null;
            Run run = new Run();
            String name = "kit-" + UUID.randomUUID();
            try {
                for (Path root : cgroups.roots) {
                    Path dir = Files.createDirectory(root.resolve(name));
                    run.dirs.add(dir);
                    if (Files.exists(dir.resolve("pids.max"))) Files.writeString(dir.resolve("pids.max"), String.valueOf(TASKS));
                    if (Files.exists(dir.resolve("memory.max"))) {
                        Files.writeString(dir.resolve("memory.max"), String.valueOf(MEMORY_BYTES));
                        optional(dir.resolve("memory.swap.max"), "0");
                    }
                    if (Files.exists(dir.resolve("memory.limit_in_bytes"))) {
                        Files.writeString(dir.resolve("memory.limit_in_bytes"), String.valueOf(MEMORY_BYTES));
                        optional(dir.resolve("memory.memsw.limit_in_bytes"), String.valueOf(MEMORY_BYTES));
                    }
                    run.procs.add(dir.resolve("cgroup.procs"));
                }
                boolean pids = run.dirs.stream().anyMatch(d -> Files.exists(d.resolve("pids.max")));
                boolean memory = run.dirs.stream().anyMatch(d -> Files.exists(d.resolve("memory.max")) || Files.exists(d.resolve("memory.limit_in_bytes")));
                if (!pids || !memory) throw new IOException("contrôleurs pids et memory absents");
                return run;
            } catch (IOException | RuntimeException e) {
                run.close();
                return null;
            }
        }

        private static void optional(Path file, String value) {
            try {
                if (Files.exists(file)) Files.writeString(file, value);
            } catch (IOException ignored) {
                // no swap accounting
            }
        }

        /** Does a line {@code key N} with N > 0 appear in {@code file} of one of the run's cgroups? */
        boolean hit(String file, String key) {
            for (Path d : dirs) {
                try {
                    if (!Files.exists(d.resolve(file))) continue;
                    for (String line : Files.readAllLines(d.resolve(file))) {
                        if (line.startsWith(key) && !line.substring(key.length()).strip().equals("0")) return true;
                    }
                } catch (IOException | RuntimeException ignored) {
                    // unreadable
                }
            }
            return false;
        }

        /** Removes the cgroups, once their processes are gone (killed by the sandbox before). */
        @Override
        public void close() {
            for (Path d : dirs) {
                for (int i = 0; i < 50; i++) {
                    try {
                        Files.deleteIfExists(d);
                        break;
                    } catch (IOException e) {
                        try {
                            Thread.sleep(100);
                        } catch (InterruptedException ie) {
                            Thread.currentThread().interrupt();
                            break;
                        }
                    }
                }
            }
        }
    }
}
