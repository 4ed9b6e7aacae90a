package kit.grade;

import kit.broker.KafkaLogs;
import kit.db.Postgres;
import kit.faults.FaultyKafka;
import kit.run.Sandbox;
import kit.scenarios.Scenarios;
import kit.util.Errors;
import kit.util.Folders;

import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/** ./jbang grade : runs students' programs under the faults that expose each classic mistake, and scores them. */
@Command(name = "grade", mixinStandardHelpOptions = true,
        description = {"Note les programmes des étudiants à leur comportement sous les pannes (perte de requête, de réponse, crash, zombie).",
                "CHEMIN : un fichier, le dossier d'un étudiant, ou le dossier d'une classe (un sous-dossier par étudiant).",
                "L'exercice est reconnu au nom du fichier (ProducerAtLeastOnce.java, ConsumerExactlyOnce.java, ZombieFencing.java…).",
                "Code de sortie : 0 si tout est réussi, 1 sinon, 2 si la commande est mal employée."})
public final class GradeCommand implements java.util.concurrent.Callable<Integer> {

    @Parameters(arity = "1..*", paramLabel = "CHEMIN", description = "Fichier(s) ou dossier(s) à noter.")
    List<Path> paths;

    @Option(names = "--report", paramLabel = "DOSSIER", description = "Écrit report.md, report.csv et junit.xml dans ce dossier.")
    Path reportDir;

    /**
     * Two more than the cores: each submission's runs also wait (group joins, idle ends, a lost request's timeout), and that
     * time is CPU for another. On 2 cores, a class of 6 took 0.87 to 0.92 times as long with 4 jobs as with 3.
     */
    static final int DEFAULT_JOBS = Math.min(8, Runtime.getRuntime().availableProcessors() + 2);

    @Option(names = "--jobs", description = "Rendus notés en parallèle, chacun avec son broker (défaut : cœurs + 2, ici "
            + "${DEFAULT-VALUE}).")
    int jobs = DEFAULT_JOBS;

    @Option(names = "--timeout", defaultValue = "60", description = "Secondes accordées à chaque lancement d'un programme (défaut : ${DEFAULT-VALUE}).")
    int timeoutSeconds;

    @Option(names = "--exercises", paramLabel = "A,B,…", split = ",", description = "La consigne : les exercices à rendre "
            + "(noms de classe, ex. ProducerAtLeastOnce,ConsumerExactlyOnce ; « tous » ou vide : tous ceux de exercises/, le défaut). "
            + "Un exercice non rendu compte 0 ; la note est la moyenne sur toute la consigne.")
    List<String> exerciseNames;

    @Option(names = "--format", defaultValue = "texte", description = "En plus du tableau : « gradescope » écrit results.json dans "
            + "--report ; « vpl » imprime les lignes Grade :=>> et Comment :=>> de Moodle VPL (défaut : ${DEFAULT-VALUE}).")
    String format;

    @Option(names = "--etudiant", paramLabel = "NOM", description = "CHEMIN est le dossier d'un seul étudiant (ex. son dépôt, "
            + "fichiers rangés où il veut), noté sous ce nom : ce que font les modèles de platforms/.")
    String student;

    @Option(names = "--sans-bwrap", description = "N'isole pas les programmes avec bubblewrap même s'il est là (isolation partielle).")
    boolean noBwrap;

    @Option(names = "-v", description = "Journaux du broker.")
    boolean[] verbose = new boolean[0];

    @Spec
    CommandSpec spec;

    /**
     * What to grade: a student's file, read once by the grader before anything runs (the snapshot: no program can
     * change another's source), or a reason it can't be graded.
     */
    record Submission(String student, String exercise, Path file, byte[] source, String notGradable) {
        Submission(String student, String exercise, Path file, String notGradable) {
            this(student, exercise, file, null, notGradable);
        }
    }

    /** Largest source file the grader reads. */
    static final int MAX_SOURCE_BYTES = 1 << 20;

    @Override
    public Integer call() throws Exception {
        KafkaLogs.verbosity(verbose.length);
        if (jobs < 1 || jobs > 8) throw new ParameterException(spec.commandLine(), "--jobs doit être entre 1 et 8");
        if (timeoutSeconds < 10) throw new ParameterException(spec.commandLine(), "--timeout doit valoir au moins 10 s");
        if (!List.of("texte", "gradescope", "vpl").contains(format)) {
            throw new ParameterException(spec.commandLine(), "--format : « texte », « gradescope » ou « vpl » (pas « " + format + " »)");
        }
        if (format.equals("gradescope") && reportDir == null) {
            throw new ParameterException(spec.commandLine(), "--format gradescope écrit results.json dans le dossier de --report : donnez-le");
        }
        List<Exercise> assignment = assignment(exerciseNames);
        List<Submission> found = new ArrayList<>();
        for (Path p : paths) {
            if (!Files.exists(p)) throw new ParameterException(spec.commandLine(), "chemin introuvable : " + p);
            found.addAll(student != null ? discoverOne(p, student) : discover(p));
        }
        // the snapshot: every file read now, before any program runs
        List<Submission> submissions = new ArrayList<>();
        for (Submission s : found) submissions.add(snapshot(s));
        Sandbox sandbox = Sandbox.detect(!noBwrap);
        long t0 = System.nanoTime();
        List<Grader.Grade> grades = new ArrayList<>();
        // the assignment, student by student: a missing file is graded 0, "non rendu"
        List<String> students = submissions.stream().map(Submission::student).distinct().toList();
        for (String student : students) {
            List<Submission> mine = submissions.stream().filter(s -> s.student().equals(student)).toList();
            boolean nothing = mine.stream().allMatch(s -> s.file() == null && s.exercise().equals("—"));
            for (Exercise e : assignment) {
                if (mine.stream().noneMatch(s -> s.exercise().equals(e.className))) {
                    grades.add(nothing ? Grader.notGradable(student, e.className, Grader.NOT_HANDED_IN + " : dossier vide, aucun fichier .java")
                            : Grader.notHandedIn(student, e));
                }
            }
        }
        Set<String> assigned = assignment.stream().map(e -> e.className).collect(Collectors.toSet());
        for (Submission s : submissions) {
            if (s.notGradable() != null && !s.exercise().equals("—")) grades.add(Grader.notGradable(s.student(), s.exercise(), s.notGradable()));
        }
        List<Submission> outside = submissions.stream().filter(s -> s.notGradable() == null && !assigned.contains(s.exercise())).toList();
        outside.forEach(s -> System.out.printf("%s/%s : hors de la consigne (--exercises), pas noté%n", s.student(), s.exercise()));
        // the costliest first (stable: student order otherwise), so that the last ones to finish are short
        List<Submission> runnable = submissions.stream().filter(s -> s.notGradable() == null && assigned.contains(s.exercise()))
                .sorted(Comparator.comparingInt((Submission s) -> -exercise(s).seconds)).toList();
        System.out.printf("%d rendu(s) à noter (%d étudiant(s), consigne : %d exercice(s)), %d en parallèle.%n", runnable.size(),
                students.size(), assignment.size(), Math.min(jobs, Math.max(1, runnable.size())));
        System.out.println("Isolation : " + sandbox.describe());
        if (!runnable.isEmpty()) grades.addAll(gradeAll(runnable, t0, sandbox));
        GradeReport report = new GradeReport(grades, assignment.stream().map(e -> e.className).toList(), sandbox.describe());
        System.out.println();
        System.out.print(report.table());
        if (reportDir != null) {
            report.write(reportDir);
            if (format.equals("gradescope")) report.writeGradescope(reportDir.resolve("results.json"));
            System.out.println("Rapports écrits dans " + reportDir + " : report.md, report.csv, junit.xml"
                    + (format.equals("gradescope") ? ", results.json" : ""));
        }
        if (format.equals("vpl")) System.out.print(report.vpl());
        boolean allPassed = grades.stream().allMatch(Grader.Grade::passed);
        System.out.printf("Durée : %.0f s%n", (System.nanoTime() - t0) / 1e9);
        return allPassed ? 0 : 1;
    }

    /** The exercises to hand in: those named, or every exercise of exercises/. */
    private List<Exercise> assignment(List<String> names) {
        List<String> given = names == null ? List.of() : names.stream().map(String::strip).filter(n -> !n.isEmpty()).toList();
        if (given.isEmpty() || given.equals(List.of("tous"))) return Exercise.assignedByDefault();
        List<Exercise> out = new ArrayList<>();
        for (String n : given) {
            Exercise e = Arrays.stream(Exercise.values()).filter(x -> x.className.equalsIgnoreCase(n) || x.fileName().equalsIgnoreCase(n))
                    .findFirst().orElseThrow(() -> new ParameterException(spec.commandLine(), "--exercises : exercice inconnu « " + n
                            + " » (connus : " + Arrays.stream(Exercise.values()).map(x -> x.className).collect(Collectors.joining(", ")) + ")"));
            if (!out.contains(e)) out.add(e);
        }
        return out;
    }

    /** Reads the file now: the grader works on this copy only. */
    private static Submission snapshot(Submission s) {
        if (s.file() == null) return s;
        try {
            if (Files.size(s.file()) > MAX_SOURCE_BYTES) {
                return new Submission(s.student(), s.exercise(), s.file(), null, "fichier trop gros (plus de 1 Mio)");
            }
            return new Submission(s.student(), s.exercise(), s.file(), Files.readAllBytes(s.file()), null);
        } catch (IOException e) {
            return new Submission(s.student(), s.exercise(), s.file(), null, "fichier illisible : " + e.getMessage());
        }
    }

    private List<Grader.Grade> gradeAll(List<Submission> runnable, long t0, Sandbox sandbox) throws Exception {
        int workers = Math.min(jobs, runnable.size());
        System.out.println("Démarrage de " + workers + " broker(s) Kafka 4.4.0 avec le proxy de pannes...");
        // one broker per worker: the fault proxy's plan is per cluster, so two submissions never share it. Each broker
        // joins the queue as soon as it is up: the first submissions run while the others start
        BlockingQueue<FaultyKafka> brokers = new ArrayBlockingQueue<>(workers);
        List<FaultyKafka> all = new CopyOnWriteArrayList<>();
        // set when the correction ends: a broker that comes up after that is closed at once
        AtomicBoolean over = new AtomicBoolean();
        List<CompletableFuture<FaultyKafka>> starting = new ArrayList<>();
        for (int i = 0; i < workers; i++) {
            starting.add(CompletableFuture.supplyAsync(() -> FaultyKafka.start(1)).whenComplete((k, e) -> {
                if (k == null) return;
                synchronized (over) {
                    if (over.get()) {
                        k.close();
                        return;
                    }
                    all.add(k);
                    brokers.add(k);
                }
            }));
        }
        // one PostgreSQL for the grading if an exercise needs one, started with the brokers; a database and a role per worker
        boolean needsDatabase = runnable.stream().anyMatch(s -> exercise(s).needsDatabase());
        CompletableFuture<Postgres> startingDb = needsDatabase ? CompletableFuture.supplyAsync(() -> Postgres.start(Duration.ofMinutes(5)))
                : CompletableFuture.completedFuture(null);
        startingDb.exceptionally(e -> {
            System.out.println("✘ PostgreSQL n'a pas démarré : " + Errors.rootMessage(e));
            return null;
        });
        // the other exercises don't wait for it: only a submission that needs the database joins its start
        startingDb.thenAccept(pg -> {
            if (pg != null) System.out.printf("PostgreSQL (./jbang db) prêt en %.1f s, une base et un rôle par tâche.%n",
                    pg.startup().toMillis() / 1000.0);
        });
        Map<FaultyKafka, Postgres.Account> databases = new java.util.concurrent.ConcurrentHashMap<>();
        Path work = Files.createTempDirectory("kit-correction-");
        Thread cleanup = new Thread(() -> {
            all.forEach(FaultyKafka::close);
            startingDb.thenAccept(pg -> { if (pg != null) pg.close(); });
            Folders.deleteRecursively(work);
        });
        Runtime.getRuntime().addShutdownHook(cleanup);
        ExecutorService pool = Executors.newFixedThreadPool(workers);
        try {
            AtomicInteger done = new AtomicInteger();
            List<Future<Grader.Grade>> futures = new ArrayList<>();
            for (Submission s : runnable) {
                futures.add(pool.submit(() -> {
                    // written and built while it waits for a broker (the first ones, while the brokers start)
                    Grader.Staged staged = Grader.stage(work, s.student(), exercise(s), s.source());
                    FaultyKafka kafka = brokers.take();
                    long start = System.nanoTime();
                    Grader.Grade g;
                    try {
                        Postgres pg = exercise(s).needsDatabase() ? joinDatabase(startingDb) : null;
                        Postgres.Account account = pg == null ? null : databases.computeIfAbsent(kafka, k -> pg.newDatabase("correction"));
                        g = new Grader(new Scenarios(kafka, Duration.ofSeconds(timeoutSeconds)), work, sandbox, pg, account).grade(staged);
                    } catch (RuntimeException e) {
                        g = Grader.notGradable(s.student(), s.exercise(), "erreur du correcteur : " + Errors.rootMessage(e));
                    } finally {
                        brokers.add(kafka);
                    }
                    int n = done.incrementAndGet();
                    double elapsed = (System.nanoTime() - t0) / 1e9;
                    System.out.printf("[%d/%d] %s/%s : %d/20 %s (%.0f s ; écoulé %.0f s, reste ≈ %.0f s)%n", n, runnable.size(),
                            s.student(), s.exercise(), g.score(), g.passed() ? "✔" : "✘", (System.nanoTime() - start) / 1e9,
                            elapsed, elapsed / n * (runnable.size() - n));
                    return g;
                }));
            }
            // a broker that cannot start stops the correction (the finally below interrupts the jobs waiting for one)
            for (CompletableFuture<FaultyKafka> f : starting) f.join();
            List<Grader.Grade> grades = new ArrayList<>();
            for (Future<Grader.Grade> f : futures) grades.add(f.get());
            return grades;
        } finally {
            pool.shutdownNow();
            synchronized (over) { over.set(true); }
            cleanup.run();
            try { Runtime.getRuntime().removeShutdownHook(cleanup); } catch (IllegalStateException ignored) { }
        }
    }

    /** The grading's PostgreSQL, or null when it could not start (the exercises that need it then get 0, with the reason). */
    private static Postgres joinDatabase(CompletableFuture<Postgres> starting) {
        try {
            return starting.join();
        } catch (RuntimeException e) {
            return null;
        }
    }

    private static Exercise exercise(Submission s) {
        return Exercise.byFileName(s.file().getFileName().toString()).orElseThrow();
    }

    /** A file, a student's folder (holding .java files) or a class folder (one sub-folder per student). */
    static List<Submission> discover(Path path) throws IOException {
        Path abs = path.toAbsolutePath().normalize();
        if (Files.isRegularFile(abs)) {
            Path parent = abs.getParent();
            return List.of(submission(parent != null && parent.getFileName() != null ? parent.getFileName().toString() : "étudiant", abs));
        }
        String name = abs.getFileName() == null ? "étudiant" : abs.getFileName().toString();
        List<Path> javaFiles = javaFiles(abs);
        List<Path> subdirs;
        try (Stream<Path> s = Files.list(abs)) {
            subdirs = s.filter(Files::isDirectory).filter(d -> !d.getFileName().toString().startsWith(".")).sorted().toList();
        }
        boolean direct;
        try (Stream<Path> s = Files.list(abs)) {
            direct = s.anyMatch(f -> f.toString().endsWith(".java"));
        }
        if (direct || subdirs.isEmpty()) {
            if (javaFiles.isEmpty()) return List.of(new Submission(name, "—", null, "dossier vide : aucun fichier .java rendu"));
            return javaFiles.stream().map(f -> submission(name, f)).toList();
        }
        List<Submission> all = new ArrayList<>();
        for (Path student : subdirs) {
            List<Path> files = javaFiles(student);
            String who = student.getFileName().toString();
            if (files.isEmpty()) all.add(new Submission(who, "—", null, "dossier vide : aucun fichier .java rendu"));
            files.forEach(f -> all.add(submission(who, f)));
        }
        return all;
    }

    /** One student's folder, whatever its layout (a repository: the .java files anywhere below, but in hidden folders). */
    private List<Submission> discoverOne(Path path, String name) throws IOException {
        if (name.isBlank() || !name.matches("[\\p{L}\\p{N}._@+-]{1,100}")) {
            throw new ParameterException(spec.commandLine(), "--etudiant : lettres, chiffres et . _ @ + - seulement (pas « " + name + " »)");
        }
        Path abs = path.toAbsolutePath().normalize();
        if (Files.isRegularFile(abs)) return List.of(submission(name, abs));
        List<Path> files = javaFiles(abs);
        if (files.isEmpty()) return List.of(new Submission(name, "—", null, "dossier vide : aucun fichier .java rendu"));
        return files.stream().map(f -> submission(name, f)).toList();
    }

    private static List<Path> javaFiles(Path dir) throws IOException {
        try (Stream<Path> s = Files.walk(dir, 4)) {
            return s.filter(Files::isRegularFile).filter(f -> f.getFileName().toString().endsWith(".java"))
                    .filter(f -> java.util.stream.StreamSupport.stream(dir.relativize(f).spliterator(), false)
                            .noneMatch(part -> part.toString().startsWith("."))).sorted().toList();
        }
    }

    private static Submission submission(String student, Path file) {
        String fileName = file.getFileName().toString();
        return Exercise.byFileName(fileName).map(e -> new Submission(student, e.className, file, null))
                .orElseGet(() -> new Submission(student, fileName, null, "exercice inconnu : « " + fileName + " » (attendus : "
                        + Arrays.stream(Exercise.values()).map(Exercise::fileName).collect(Collectors.joining(", ")) + ")"));
    }
}
