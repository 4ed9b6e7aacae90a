#!/bin/bash
# Moodle VPL, « Évaluer » : prépare vpl_execution, que VPL lance dans le dossier des fichiers rendus ; il
# imprime une ligne « Comment :=>> » par vérification et « Grade :=>> » la note sur 20 (réglez la note
# maximale de l'activité VPL à 20). Le kit doit être installé sur le serveur d'exécution (KIT_DIR).
KIT_DIR="${KIT_DIR:-/opt/kafka-semantiques}"
# la consigne : « tous » (les huit exercices), ou une liste : ProducerAtLeastOnce,ConsumerExactlyOnce
KIT_EXERCISES="${KIT_EXERCISES:-tous}"
cat > vpl_execution <<SCRIPT
#!/bin/bash
"$KIT_DIR/jbang" grade@"$KIT_DIR/jbang-catalog.json" "\$PWD" --etudiant rendu --exercises "$KIT_EXERCISES" --format vpl --report "\$PWD/.rapport" --timeout 60 | grep -E '^(Grade|Comment) :=>>'
exit 0
SCRIPT
chmod +x vpl_execution
