package kit.tour;

import kit.faults.FaultPlan;
import kit.faults.FaultyKafka;
import kit.run.Program;
import kit.scenarios.Scenarios;
import kit.semantics.Semantic;

import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Option;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.Callable;

/** ./jbang tour : the whole course in one command — each semantic under the fault that tells it apart. */
@Command(name = "tour", mixinStandardHelpOptions = true,
        description = {"Passe les six sémantiques sous la panne qui les distingue et affiche ce qui a été perdu ou dupliqué.",
                "Démarre et arrête son propre broker Kafka (avec le proxy de pannes devant)."})
public final class TourCommand implements Callable<Integer> {

    /** The scenario that needs 3 nodes: the partition leader dies mid-stream. */
    static final String LEADER_FAILURE = "leader-failure";

    @Option(names = "--scenario", description = "Un seul scénario : producer-at-most-once, producer-at-least-once, "
            + "producer-exactly-once, consumer-at-most-once, consumer-at-least-once, consumer-exactly-once, "
            + "ou " + LEADER_FAILURE + " (le leader de la partition tombe en plein flux ; 3 nœuds).")
    String scenarioName;

    @Option(names = "--brokers", defaultValue = "1", description = "Nœuds du cluster : 1 (défaut) ou 3 (ajoute le scénario "
            + LEADER_FAILURE + ", avec min.insync.replicas=2).")
    int brokers;

    @Spec
    CommandSpec spec;

    private Semantic scenario;

    @Option(names = "--trials", defaultValue = "0", description = "Essais aléatoires (positions de panne et de crash tirées au sort).")
    int trials;

    @Option(names = "--seed", defaultValue = "42", description = "Graine des essais aléatoires : même graine, mêmes essais (défaut : ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "-v", description = "Journaux du broker.")
    boolean[] verbose = new boolean[0];

    @Override
    public Integer call() {
        if (verbose.length > 0) System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", "info");
        if (brokers != 1 && brokers != 3) throw new ParameterException(spec.commandLine(), "--brokers vaut 1 ou 3, pas " + brokers);
        boolean leaderFailure = brokers == 3 && scenarioName == null;
        if (LEADER_FAILURE.equals(scenarioName)) {
            leaderFailure = true;
            brokers = 3;
        } else if (scenarioName != null) {
            scenario = Semantic.byId(scenarioName);
            if (scenario == null) throw new ParameterException(spec.commandLine(), "scénario inconnu : « " + scenarioName + " »");
        }
        if (trials < 0) throw new ParameterException(spec.commandLine(), "--trials doit être positif");
        if (trials > 0 && LEADER_FAILURE.equals(scenarioName)) {
            throw new ParameterException(spec.commandLine(), "--trials ne s'applique pas au scénario " + LEADER_FAILURE);
        }
        long t0 = System.nanoTime();
        // the scripts are built by JBang while the broker starts
        Arrays.stream(Semantic.values()).filter(s -> scenario == null || s == scenario).forEach(s -> Program.prepare(Scenarios.script(s)));
        System.out.println(brokers == 1 ? "Démarrage d'un broker Kafka 4.4.0 avec le proxy de pannes..."
                : "Démarrage d'un cluster Kafka 4.4.0 de 3 nœuds (min.insync.replicas=2) avec le proxy de pannes...");
        try (FaultyKafka kafka = FaultyKafka.start(brokers)) {
            Scenarios scenarios = new Scenarios(kafka);
            int code = trials > 0 ? trials(scenarios) : tour(scenarios, leaderFailure);
            System.out.printf("Durée : %.0f s%n", (System.nanoTime() - t0) / 1e9);
            return code;
        }
    }

    private int tour(Scenarios scenarios, boolean leaderFailure) {
        List<Semantic> chosen = scenario != null ? List.of(scenario)
                : LEADER_FAILURE.equals(scenarioName) ? List.of() : Arrays.asList(Semantic.values());
        List<Semantic> struck = leaderFailure ? List.copyOf(Semantic.LEADER_FAILURE.keySet()) : List.of();
        int total = chosen.size() + struck.size();
        List<Scenarios.Result> results = new ArrayList<>();
        int i = 0;
        for (Semantic s : chosen) {
            System.out.printf("[%d/%d] %s...%n", ++i, total, s.french);
            results.add(scenarios.run(s, Scenarios.script(s)));
        }
        for (Semantic s : struck) {
            System.out.printf("[%d/%d] %s, leader arrêté en plein flux...%n", ++i, total, s.french);
            results.add(scenarios.nodeFailure(s, Scenarios.script(s), false));
        }
        System.out.println();
        System.out.printf("%-27s %-28s %7s %5s %7s %8s  %-19s %s%n", "sémantique", "panne injectée", "envoyés", "lus", "perdus",
                "doublons", "garantie annoncée", "observé");
        for (Scenarios.Result r : results) {
            System.out.printf("%-27s %-28s %7d %5d %7d %8d  %-19s %s %s%n", r.semantic().french, r.fault(), r.sent(), r.report().read(),
                    r.report().lost(), r.report().duplicated(), r.semantic().claim, r.passed() ? "✔" : "✘", r.observed());
        }
        System.out.println();
        for (Scenarios.Result r : results) System.out.println("• " + r.semantic().french + " (" + r.fault() + ") : " + r.explanation());
        boolean ok = results.stream().allMatch(Scenarios.Result::passed);
        System.out.println();
        System.out.println(ok ? "✔ Chaque sémantique tient sa garantie et montre sa faiblesse."
                : "✘ Au moins une sémantique ne se comporte pas comme le cours l'annonce (voir ci-dessus).");
        return ok ? 0 : 1;
    }

    /** Jepsen-style: random fault positions and crash points, reproducible from the seed; counts violated claims. */
    private int trials(Scenarios scenarios) {
        Random random = new Random(seed);
        List<Semantic> pool = scenario != null ? List.of(scenario) : Arrays.asList(Semantic.values());
        System.out.println("Essais aléatoires : " + trials + ", graine " + seed);
        int violations = 0;
        for (int t = 1; t <= trials; t++) {
            Semantic s = pool.get(random.nextInt(pool.size()));
            int position = 1 + random.nextInt(9);
            Scenarios.Result r;
            String drawn;
            if (s.producer()) {
                FaultPlan.Fault fault = random.nextBoolean() ? FaultPlan.Fault.LOSE_REQUEST : FaultPlan.Fault.LOSE_RESPONSE;
                drawn = fault.french + " sur la requête Produce n°" + position;
                r = scenarios.producer(s, Scenarios.script(s), fault, position);
            } else {
                drawn = "crash au message " + position;
                r = scenarios.consumer(s, Scenarios.script(s), position);
            }
            boolean violated = !r.keepsGuarantee() || (r.problem() != null && !r.problem().startsWith("panne non injectée"));
            if (violated) violations++;
            System.out.printf("essai %d/%d : %-27s %-40s → %s%s%n", t, trials, s.french, drawn, r.observed(),
                    violated ? "  ✘ VIOLATION (" + s.claim + ")" : "");
        }
        System.out.println(violations == 0 ? "✔ Aucune garantie annoncée n'a été violée." : "✘ " + violations + " violation(s).");
        return violations == 0 ? 0 : 1;
    }
}
