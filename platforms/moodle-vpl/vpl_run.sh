#!/bin/bash
# Moodle VPL, « Exécuter » : prépare vpl_execution, qui note les fichiers rendus et affiche tout : la
# progression, le tableau, puis les lignes « Comment :=>> » et « Grade :=>> » (la note sur 20).
KIT_DIR="${KIT_DIR:-/opt/kafka-semantiques}"
KIT_EXERCISES="${KIT_EXERCISES:-tous}"
cat > vpl_execution <<SCRIPT
#!/bin/bash
"$KIT_DIR/jbang" grade@"$KIT_DIR/jbang-catalog.json" "\$PWD" --etudiant rendu --exercises "$KIT_EXERCISES" --format vpl --report "\$PWD/.rapport" --timeout 60
exit 0
SCRIPT
chmod +x vpl_execution
