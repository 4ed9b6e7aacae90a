package kit.lab;

import com.sun.net.httpserver.Filter;
import com.sun.net.httpserver.HttpExchange;

import java.io.IOException;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * Who may steer the lab (docs/LABO.md, « Qui pilote le labo »). Every route of the control server goes through it:
 * <ul>
 * <li>on loopback (the default), only a request addressed to localhost, 127.0.0.1 or [::1] is served: a web page
 *     of another site can't reach the lab through a DNS name that points at 127.0.0.1 (DNS rebinding);</li>
 * <li>with {@code --listen} (another interface), every request carries the lab's token: {@code Authorization: Bearer …},
 *     or {@code ?token=…} once, which sets a cookie for the page's own later requests (SameSite=Strict: another
 *     site's page can't send it);</li>
 * <li>a POST or DELETE sent by a page (it carries {@code Origin}) from anywhere but the lab's own origin is refused
 *     (403), and a POST's body is JSON or nothing else (415): a form of another site can't post to the lab.</li>
 * </ul>
 */
final class LabAccess extends Filter {

    static final String COOKIE = "labo_jeton";
    private static final Set<String> LOOPBACK_NAMES = Set.of("localhost", "127.0.0.1", "[::1]");

    /** The token required on every request, or null on loopback. */
    private final String token;

    private LabAccess(String token) { this.token = token; }

    /** On loopback: no token, requests addressed to a loopback name only. */
    static LabAccess loopback() { return new LabAccess(null); }

    /** On another interface: a fresh random token, required on every request. */
    static LabAccess withToken() {
        byte[] b = new byte[16];
        new SecureRandom().nextBytes(b);
        return new LabAccess(HexFormat.of().formatHex(b));
    }

    String token() { return token; }

    @Override
    public String description() { return "accès au labo : hôte, jeton, origine, JSON"; }

    @Override
    public void doFilter(HttpExchange ex, Chain chain) throws IOException {
        String refusal = null;
        int status = 0;
        String host = ex.getRequestHeaders().getFirst("Host");
        String method = ex.getRequestMethod();
        boolean writes = method.equals("POST") || method.equals("DELETE") || method.equals("PUT") || method.equals("PATCH");
        String origin = ex.getRequestHeaders().getFirst("Origin");
        String given = token == null ? null : given(ex);
        if (token == null && (host == null || !LOOPBACK_NAMES.contains(hostName(host)))) {
            status = 403;
            refusal = "le labo ne répond qu'à http://localhost (hôte demandé : « " + host + " »). "
                    + "Pour l'ouvrir à d'autres machines : ./jbang broker --faults --listen ADRESSE.";
        } else if (token != null && (given == null || !MessageDigest.isEqual(given.getBytes(StandardCharsets.UTF_8),
                token.getBytes(StandardCharsets.UTF_8)))) {
            status = 401;
            refusal = (given == null ? "jeton manquant" : "jeton invalide") + " : ce labo écoute au-delà de cette machine "
                    + "(--listen) et demande le jeton de sa ligne « Labo prêt » (en-tête Authorization: Bearer JETON, "
                    + "?token=JETON pour la page, ./jbang fault --token JETON ou la variable KAFKA_LAB_TOKEN).";
        } else if (writes && origin != null && !origin.equalsIgnoreCase("http://" + host)) {
            status = 403;
            refusal = "requête refusée : elle vient d'une page d'un autre site (Origin « " + origin + " »). "
                    + "Seules la page du labo, ./jbang fault et les notebooks le pilotent.";
        } else if (method.equals("POST") && !json(ex.getRequestHeaders().getFirst("Content-Type"))) {
            status = 415;
            refusal = "le corps d'un POST est du JSON : en-tête Content-Type: application/json attendu (reçu : « "
                    + Objects.requireNonNullElse(ex.getRequestHeaders().getFirst("Content-Type"), "aucun") + " »).";
        }
        if (refusal != null) {
            try (ex) {
                ex.getRequestBody().readNBytes(64 * 1024);
                LabControl.send(ex, status, LabControl.toJson(Map.of("erreur", refusal)), "application/json");
            }
            return;
        }
        if (token != null && cookie(ex) == null && LabControl.query(ex.getRequestURI()).containsKey("token")) {
            // the page came with ?token=: its own later requests (fetch, EventSource, the diagram) carry the cookie
            ex.getResponseHeaders().add("Set-Cookie", COOKIE + "=" + token + "; Path=/; HttpOnly; SameSite=Strict");
        }
        chain.doFilter(ex);
    }

    /** The token the request carries: Authorization header, then cookie, then ?token=. */
    private static String given(HttpExchange ex) {
        String auth = ex.getRequestHeaders().getFirst("Authorization");
        if (auth != null && auth.regionMatches(true, 0, "Bearer ", 0, 7)) return auth.substring(7).trim();
        String cookie = cookie(ex);
        if (cookie != null) return cookie;
        return LabControl.query(ex.getRequestURI()).get("token");
    }

    private static String cookie(HttpExchange ex) {
        for (String header : ex.getRequestHeaders().getOrDefault("Cookie", java.util.List.of())) {
            for (String part : header.split(";")) {
                String p = part.trim();
                if (p.startsWith(COOKIE + "=")) return p.substring(COOKIE.length() + 1);
            }
        }
        return null;
    }

    private static boolean json(String contentType) {
        if (contentType == null) return false;
        String type = contentType.split(";", 2)[0].trim().toLowerCase(Locale.ROOT);
        return type.equals("application/json");
    }

    /** The host part of a Host header (host, host:port, [v6]:port), lower case. */
    static String hostName(String host) {
        String h = host.trim().toLowerCase(Locale.ROOT);
        if (h.startsWith("[")) {
            int end = h.indexOf(']');
            return end < 0 ? h : h.substring(0, end + 1);
        }
        int colon = h.lastIndexOf(':');
        return colon < 0 ? h : h.substring(0, colon);
    }

    /** The URL others reach the lab at: localhost on loopback or all interfaces, the address itself otherwise. */
    static String url(InetAddress bound, int port) {
        if (bound.isLoopbackAddress() || bound.isAnyLocalAddress()) return "http://localhost:" + port;
        String a = bound.getHostAddress();
        return "http://" + (a.contains(":") ? "[" + a + "]" : a) + ":" + port;
    }
}
