package kit.lab;

import kit.faults.FaultPlan;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import org.apache.kafka.common.protocol.ApiKeys;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;

/** ./jbang fault … : steers the lab started by ./jbang broker --faults, through its control API. */
@Command(name = "fault", mixinStandardHelpOptions = true,
        description = {"Pilote le labo démarré par ./jbang broker --faults : perdre une requête ou une réponse, retarder,",
                "couper, refuser, arrêter un nœud, retenir la réplication ; voir ce qui est passé sur le réseau."},
        subcommands = {FaultCommand.LoseRequest.class, FaultCommand.LoseResponse.class, FaultCommand.Delay.class,
                FaultCommand.Cut.class, FaultCommand.Refuse.class, FaultCommand.StopBroker.class, FaultCommand.StartBroker.class,
                FaultCommand.HoldReplication.class, FaultCommand.ReleaseReplication.class,
                FaultCommand.Clear.class, FaultCommand.Status.class, FaultCommand.TraceCmd.class})
public final class FaultCommand implements Runnable {

    @Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    /** Where the lab answers: --control, $KAFKA_LAB_CONTROL, or http://localhost:9099; and its token, if it asks for one. */
    static final class Control {
        @Option(names = "--control", paramLabel = "URL", description = "Adresse de l'API du labo (défaut : $KAFKA_LAB_CONTROL, sinon http://localhost:9099).")
        String url;

        @Option(names = "--token", paramLabel = "JETON",
                description = "Le jeton du labo, s'il écoute au-delà de cette machine (--listen) : celui de sa ligne « Labo prêt » (défaut : $KAFKA_LAB_TOKEN).")
        String token;

        String token() {
            String t = token != null ? token : System.getenv("KAFKA_LAB_TOKEN");
            return t == null || t.isBlank() ? null : t.trim();
        }

        String base() {
            String u = url != null ? url : System.getenv().getOrDefault("KAFKA_LAB_CONTROL", "http://localhost:9099");
            return u.endsWith("/") ? u.substring(0, u.length() - 1) : u;
        }
    }

    /** The lab said no, or isn't there: a French message, exit 1. */
    static final class LabError extends RuntimeException {
        /** The HTTP status of the lab's refusal (0: no answer at all). */
        final int status;
        LabError(String message) { this(message, 0); }
        LabError(String message, int status) { super(message); this.status = status; }
    }

    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    static String request(Control control, String method, String path, Map<String, Object> body) {
        String base = control.base();
        HttpRequest.Builder b;
        try {
            // stopping or starting a node takes seconds (start waits until it is back in the cluster); the rest is instant
            b = HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(path.startsWith("/api/brokers/") ? 60 : 20));
        } catch (IllegalArgumentException e) {
            throw new LabError("adresse du labo invalide : « " + base + " »");
        }
        String token = control.token();
        if (token != null) b.header("Authorization", "Bearer " + token);
        if (method.equals("POST")) {
            b.header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString(body == null ? "{}" : LabControl.toJson(body), StandardCharsets.UTF_8));
        }
        HttpResponse<String> r;
        try {
            r = HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
        } catch (ConnectException e) {
            String dead = deathNote(base);
            if (dead != null) throw new LabError("le labo ne répond plus : " + dead);
            throw new LabError("aucun labo ne répond sur " + base + " : il n'est pas démarré, ou il s'est arrêté (son terminal dit pourquoi). "
                    + "Démarrez-le dans un autre terminal, depuis le dossier du kit : "
                    + "./jbang broker --faults (ou réglez KAFKA_LAB_CONTROL, ou --control).");
        } catch (HttpTimeoutException e) {
            throw new LabError("le labo ne répond plus : pas de réponse de " + base + " en " + b.build().timeout().orElseThrow().toSeconds()
                    + " s. Regardez son terminal (./jbang broker --faults) : s'il est bloqué, arrêtez-le (Ctrl-C) et relancez-le.");
        } catch (IOException e) {
            String dead = deathNote(base);
            throw new LabError("le labo ne répond plus : " + (dead != null ? dead
                    : "la connexion à " + base + " s'est coupée en pleine requête (" + e.getMessage() + ") ; sa JVM s'est peut-être arrêtée : "
                    + "regardez son terminal, et relancez-le si besoin : ./jbang broker --faults."));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new LabError("interrompu");
        }
        if (r.statusCode() >= 400) {
            String why = r.body();
            try {
                why = JsonParser.parseString(r.body()).getAsJsonObject().get("erreur").getAsString();
            } catch (RuntimeException notOurs) {
                // not the lab's JSON: show it raw
            }
            throw new LabError(why, r.statusCode());
        }
        return r.body();
    }

    /** What a lab on this machine that Kafka halted wrote before dying (Lab.tombstone), if the address is a local one. */
    static String deathNote(String base) {
        try {
            URI u = URI.create(base);
            String host = u.getHost();
            if (u.getPort() < 0 || host == null || !(host.equals("localhost") || host.startsWith("127.") || host.equals("[::1]"))) return null;
            Path f = Lab.tombstone(u.getPort());
            return Files.exists(f) ? Files.readString(f, StandardCharsets.UTF_8).strip() : null;
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    /** Options shared by the faults that target a request. */
    static final class Target {
        @Option(names = "--api", defaultValue = "Produce", paramLabel = "NOM",
                description = "L'API Kafka visée : Produce, Fetch, OffsetCommit, TxnOffsetCommit, AddPartitionsToTxn, AddOffsetsToTxn, "
                        + "EndTxn, InitProducerId, FindCoordinator… (défaut : ${DEFAULT-VALUE}).")
        String api;

        @Option(names = "--nth", defaultValue = "1", paramLabel = "K", description = "La K-ième requête de cette API à partir de maintenant (défaut : ${DEFAULT-VALUE}).")
        int nth;

        @Option(names = "--client-id", paramLabel = "ID", description = "Seulement les requêtes de ce client.id.")
        String clientId;

        Map<String, Object> body(CommandLine cl, String kind, long ms) {
            ApiKeys key = FaultPlan.api(api);
            if (key == null) {
                throw new ParameterException(cl, "API inconnue : « " + api + " ». API possibles : " + String.join(", ", FaultPlan.apiNames()));
            }
            if (nth < 1) throw new ParameterException(cl, "--nth doit valoir au moins 1 (reçu : " + nth + ").");
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("kind", kind);
            m.put("api", key.name);
            m.put("nth", nth);
            m.put("clientId", clientId);
            m.put("ms", ms);
            return m;
        }
    }

    abstract static class Sub implements Callable<Integer> {
        @Mixin
        Control control = new Control();

        @Spec
        CommandLine.Model.CommandSpec spec;

        @Override
        public Integer call() {
            try {
                return run();
            } catch (LabError e) {
                System.err.println("Erreur : " + e.getMessage());
                return 1;
            }
        }

        abstract int run();

        CommandLine cl() { return spec.commandLine(); }
    }

    static int armed(String json) {
        JsonObject r = JsonParser.parseString(json).getAsJsonObject();
        System.out.println("✔ Panne n°" + r.get("id").getAsInt() + " armée : " + describeRule(r));
        return 0;
    }

    static String describeRule(JsonObject r) {
        FaultPlan.Kind kind = FaultPlan.Kind.byId(r.get("kind").getAsString());
        String what = kind == null ? r.get("kind").getAsString() : kind.french;
        String s = what + " sur la requête " + r.get("api").getAsString() + " n°" + r.get("nth").getAsInt() + " à venir";
        if (!r.get("clientId").isJsonNull()) s += " du client « " + r.get("clientId").getAsString() + " »";
        if (r.get("ms").getAsLong() > 0) s += " (" + r.get("ms").getAsLong() + " ms)";
        return s;
    }

    @Command(name = "lose-request", mixinStandardHelpOptions = true, description = "Perd une requête : le broker ne la voit jamais (la connexion est coupée).")
    static final class LoseRequest extends Sub {
        @Mixin Target target = new Target();

        @Option(names = "--ms", defaultValue = "0", paramLabel = "T",
                description = "Perd aussi, pendant T ms, toutes les requêtes visées qui suivent (les réessais du client) ; 0 : une seule.")
        long ms;

        int run() {
            if (ms < 0) throw new ParameterException(cl(), "--ms ne peut pas être négatif (reçu : " + ms + ").");
            return armed(request(control, "POST", "/api/faults", target.body(cl(), "lose-request", ms)));
        }
    }

    @Command(name = "lose-response", mixinStandardHelpOptions = true,
            description = "Perd la réponse d'une requête : le broker l'a traitée, le client ne le saura jamais (la connexion est coupée).")
    static final class LoseResponse extends Sub {
        @Mixin Target target = new Target();

        int run() { return armed(request(control, "POST", "/api/faults", target.body(cl(), "lose-response", 0))); }
    }

    @Command(name = "delay", mixinStandardHelpOptions = true, description = "Retarde une requête de --ms millisecondes.")
    static final class Delay extends Sub {
        @Mixin Target target = new Target();

        @Option(names = "--ms", required = true, paramLabel = "T", description = "Le retard, en millisecondes.")
        long ms;

        int run() {
            if (ms <= 0) throw new ParameterException(cl(), "--ms doit être positif (reçu : " + ms + ").");
            return armed(request(control, "POST", "/api/faults", target.body(cl(), "delay", ms)));
        }
    }

    @Command(name = "cut", mixinStandardHelpOptions = true, description = "Coupe toutes les connexions ouvertes (les clients se reconnectent).")
    static final class Cut extends Sub {
        int run() {
            int n = JsonParser.parseString(request(control, "POST", "/api/cut", null)).getAsJsonObject().get("cut").getAsInt();
            System.out.println("✔ " + n + " connexion(s) coupée(s).");
            return 0;
        }
    }

    @Command(name = "refuse", mixinStandardHelpOptions = true, description = "Refuse toute nouvelle connexion pendant --ms millisecondes : le broker paraît injoignable.")
    static final class Refuse extends Sub {
        @Option(names = "--ms", required = true, paramLabel = "T", description = "La durée, en millisecondes.")
        long ms;

        int run() {
            if (ms < 0) throw new ParameterException(cl(), "--ms ne peut pas être négatif (reçu : " + ms + ").");
            request(control, "POST", "/api/refuse", Map.of("ms", ms));
            System.out.println("✔ Connexions refusées pendant " + ms + " ms.");
            return 0;
        }
    }

    @Command(name = "stop-broker", mixinStandardHelpOptions = true,
            description = "Arrête brutalement un nœud (3 nœuds) : pas d'arrêt contrôlé, la reprise tourne au redémarrage.")
    static final class StopBroker extends Sub {
        @Parameters(paramLabel = "N", description = "Le numéro du nœud (1, 2 ou 3).")
        int id;

        int run() {
            request(control, "POST", "/api/brokers/" + id + "/stop", null);
            System.out.println("✔ Nœud " + id + " arrêté (comme une panne de courant).");
            return 0;
        }
    }

    @Command(name = "start-broker", mixinStandardHelpOptions = true, description = "Redémarre un nœud arrêté, et attend qu'il ait rejoint le cluster.")
    static final class StartBroker extends Sub {
        @Parameters(paramLabel = "N", description = "Le numéro du nœud (1, 2 ou 3).")
        int id;

        int run() {
            request(control, "POST", "/api/brokers/" + id + "/start", null);
            System.out.println("✔ Nœud " + id + " redémarré.");
            return 0;
        }
    }

    @Command(name = "hold-replication", mixinStandardHelpOptions = true,
            description = "Retient la réplication (3 nœuds) : les followers ne peuvent plus rien lire de leur leader, leur fin de log reste "
                    + "en arrière. Un follower qui n'a pas rattrapé son leader depuis replica.lag.time.max.ms (10 s au labo) sort de l'ISR.")
    static final class HoldReplication extends Sub {
        @Option(names = "--node", paramLabel = "N", description = "Seulement les followers des partitions dont le nœud N est le leader (défaut : tous les nœuds).")
        Integer node;

        @Option(names = "--ms", defaultValue = "0", paramLabel = "T", description = "Pendant T ms, puis la réplication reprend seule (défaut : jusqu'à release-replication).")
        long ms;

        int run() {
            if (ms < 0) throw new ParameterException(cl(), "--ms ne peut pas être négatif (reçu : " + ms + ").");
            if (node != null && node < 1) throw new ParameterException(cl(), "--node : un numéro de nœud, 1 à 3 (reçu : " + node + ").");
            Map<String, Object> body = new LinkedHashMap<>();
            body.put("node", node == null ? 0 : node);
            body.put("ms", ms);
            try {
                request(control, "POST", "/api/replication/hold", body);
            } catch (LabError e) {
                // the lab refuses the input (an unknown node, a single node): a usage error, as picocli's own
                if (e.status == 404 || e.status == 409 || e.status == 400) throw new ParameterException(cl(), e.getMessage());
                throw e;
            }
            System.out.println("✔ Réplication retenue " + (node == null ? "sur tous les nœuds" : "depuis le nœud " + node)
                    + (ms > 0 ? " pendant " + ms + " ms" : " jusqu'à ./jbang fault release-replication")
                    + " : les followers ne lisent plus rien de leur leader.");
            return 0;
        }
    }

    @Command(name = "release-replication", mixinStandardHelpOptions = true,
            description = "Laisse les followers lire de nouveau leur leader : ils rattrapent leur retard et reviennent dans l'ISR.")
    static final class ReleaseReplication extends Sub {
        int run() {
            int n = JsonParser.parseString(request(control, "POST", "/api/replication/release", null)).getAsJsonObject().get("released").getAsInt();
            System.out.println(n == 0 ? "✔ La réplication n'était pas retenue." : "✔ Réplication rendue : les followers rattrapent leur leader.");
            return 0;
        }
    }

    @Command(name = "clear", mixinStandardHelpOptions = true, description = "Retire toutes les pannes armées, et rend la réplication si elle est retenue.")
    static final class Clear extends Sub {
        int run() {
            JsonObject r = JsonParser.parseString(request(control, "POST", "/api/clear", null)).getAsJsonObject();
            System.out.println("✔ " + r.get("cleared").getAsInt() + " panne(s) retirée(s)."
                    + (r.has("released") && r.get("released").getAsInt() > 0 ? " Réplication rendue." : ""));
            return 0;
        }
    }

    @Command(name = "status", mixinStandardHelpOptions = true, description = "Les nœuds, et les pannes armées : celles qui ont eu lieu, celles qui attendent.")
    static final class Status extends Sub {
        int run() {
            JsonObject s = JsonParser.parseString(request(control, "GET", "/api/status", null)).getAsJsonObject();
            StringBuilder nodes = new StringBuilder();
            for (JsonElement b : s.getAsJsonArray("brokers")) {
                JsonObject o = b.getAsJsonObject();
                if (nodes.length() > 0) nodes.append(", ");
                nodes.append("nœud ").append(o.get("id").getAsInt()).append(" (localhost:").append(o.get("port").getAsInt()).append(") ")
                        .append(o.get("up").getAsBoolean() ? "en marche" : "ARRÊTÉ");
            }
            System.out.println("Labo : " + nodes + (s.get("refusing").getAsBoolean() ? " ; connexions refusées en ce moment" : ""));
            JsonArray held = s.has("replicationHeld") ? s.getAsJsonArray("replicationHeld") : new JsonArray();
            for (JsonElement h : held) {
                System.out.println("Réplication retenue " + (h.getAsInt() == 0 ? "sur tous les nœuds" : "depuis le nœud " + h.getAsInt())
                        + " (./jbang fault release-replication pour la rendre).");
            }
            JsonArray faults = s.getAsJsonArray("faults");
            if (faults.isEmpty()) System.out.println("Aucune panne armée.");
            for (JsonElement f : faults) {
                JsonObject r = f.getAsJsonObject();
                String state = r.get("fired").getAsBoolean() ? "✔ a eu lieu"
                        : !r.get("note").isJsonNull() ? "✘ n'aura pas lieu : " + r.get("note").getAsString()
                        : "… armée, pas encore déclenchée (" + r.get("seen").getAsInt() + " requête(s) vue(s) sur " + r.get("nth").getAsInt() + ")";
                System.out.println("  n°" + r.get("id").getAsInt() + " " + describeRule(r) + " : " + state);
            }
            return 0;
        }
    }

    @Command(name = "trace", mixinStandardHelpOptions = true, description = "Ce qui est passé sur le réseau : une ligne par requête.")
    static final class TraceCmd extends Sub {
        @Option(names = "--json", description = "Imprime la trace en JSON (le format de docs/LABO.md).")
        boolean json;

        @Option(names = "--svg", paramLabel = "FICHIER", description = "Écrit aussi le diagramme de séquence dans ce fichier SVG.")
        Path svg;

        @Option(names = "--reset", description = "Vide la trace après l'avoir montrée.")
        boolean reset;

        @Option(names = "--all", description = "Montre aussi le bruit de fond (Metadata, Fetch, Heartbeat…).")
        boolean all;

        @Option(names = "--since", defaultValue = "0", paramLabel = "N", description = "À partir de l'entrée n°N.")
        long since;

        @Option(names = "--client-id", paramLabel = "ID", split = ",",
                description = "Seulement les requêtes de ce client.id (plusieurs : séparés par des virgules) : celles de vos programmes, pas celles des voisins.")
        java.util.List<String> clientIds;

        int run() {
            if (svg != null) {
                Path parent = svg.toAbsolutePath().getParent();
                if (parent != null && !Files.isDirectory(parent)) throw new ParameterException(cl(), "dossier introuvable pour --svg : " + parent);
            }
            String query = "?since=" + since + "&all=" + all;
            if (clientIds != null) query += "&client=" + java.net.URLEncoder.encode(String.join(",", clientIds), StandardCharsets.UTF_8);
            String body = request(control, "GET", "/api/trace" + query, null);
            if (json) {
                System.out.println(body);
            } else {
                JsonArray entries = JsonParser.parseString(body).getAsJsonObject().getAsJsonArray("entries");
                if (entries.isEmpty()) System.out.println("(trace vide" + (all ? ")" : " ; --all pour voir aussi Metadata, Fetch…)"));
                for (JsonElement e : entries) System.out.println(line(e.getAsJsonObject()));
            }
            if (svg != null) {
                try {
                    Files.writeString(svg, request(control, "GET", "/api/trace.svg" + query, null), StandardCharsets.UTF_8);
                } catch (IOException e) {
                    throw new LabError("impossible d'écrire " + svg + " : " + e.getMessage());
                }
                System.err.println("Diagramme écrit dans " + svg);
            }
            if (reset) request(control, "POST", "/api/trace/reset", null);
            return 0;
        }
    }

    /** One trace entry on one line, in French. */
    static String line(JsonObject e) {
        StringBuilder s = new StringBuilder();
        s.append(e.get("time").getAsString()).append("  #").append(e.get("seq").getAsLong()).append("  ")
                .append(str(e, "clientId", "?")).append(" → nœud ").append(e.get("node").getAsInt()).append("  ")
                .append(e.get("api").getAsString()).append(" (corr ").append(e.get("correlationId").getAsInt()).append(")");
        for (JsonElement p : e.getAsJsonArray("partitions")) {
            JsonObject o = p.getAsJsonObject();
            s.append("  ").append(o.get("topic").getAsString()).append('-').append(o.get("partition").getAsInt())
                    .append(" ").append(o.get("records").getAsInt()).append(" msg");
            if (o.get("producerId").getAsLong() >= 0) {
                s.append(" pid=").append(o.get("producerId").getAsLong()).append(" ép=").append(o.get("producerEpoch").getAsInt())
                        .append(" séq=").append(o.get("baseSequence").getAsInt());
            }
            if (o.get("baseOffset").getAsLong() >= 0) s.append(" → offset ").append(o.get("baseOffset").getAsLong());
            if (o.has("error") && !o.get("error").isJsonNull()) s.append(" ").append(o.get("error").getAsString());
        }
        for (JsonElement p : e.getAsJsonArray("offsets")) {
            JsonObject o = p.getAsJsonObject();
            s.append("  ").append(o.get("topic").getAsString()).append('-').append(o.get("partition").getAsInt())
                    .append("@").append(o.get("offset").getAsLong());
        }
        if (e.has("share")) for (JsonElement p : e.getAsJsonArray("share")) {
            JsonObject o = p.getAsJsonObject();
            long first = o.get("firstOffset").getAsLong();
            long last = o.get("lastOffset").getAsLong();
            String offsets = first == last ? String.valueOf(first) : first + "–" + last;
            s.append("  ").append(o.get("topic").getAsString()).append('-').append(o.get("partition").getAsInt()).append(' ')
                    .append("ACQUIRED".equals(o.get("kind").getAsString())
                            ? "acquis " + offsets + " (livraison " + o.get("deliveryCount").getAsInt() + ")"
                            : o.get("kind").getAsString() + " " + offsets);
        }
        if (!e.get("transactionalId").isJsonNull()) s.append("  tx=").append(e.get("transactionalId").getAsString());
        if (!e.get("groupId").isJsonNull()) s.append("  groupe=").append(e.get("groupId").getAsString());
        if (e.has("member") && !e.get("member").isJsonNull()) s.append("  ").append(e.get("member").getAsString());
        if (!e.get("error").isJsonNull()) s.append("  erreur=").append(e.get("error").getAsString());
        if (e.has("acks") && !e.get("acks").isJsonNull() && e.get("acks").getAsInt() == 0) s.append("  acks=0 (sans réponse)");
        s.append("  : ").append(e.get("actionFr").getAsString());
        return s.toString();
    }

    private static String str(JsonObject o, String name, String otherwise) {
        return o.has(name) && !o.get(name).isJsonNull() ? o.get(name).getAsString() : otherwise;
    }
}
