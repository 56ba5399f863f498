/* ctg-carto: French for the plotly map (toolbar titles, messages, number and date formats), served by the app itself.
 * Why here and not the CDN file plotly-locale-fr: the page loads nothing from another server (serve_locally, CSP).
 * The map's dcc.Graph asks for it with config {locale: "fr"} (dashboard/layout.py). Dash loads this asset before
 * plotly.js, which registers every entry of window.PlotlyLocales when it starts; if plotly is already there, the
 * locale is registered directly.
 */
(function () {
  "use strict";

  var locale = {
    moduleType: "locale",
    name: "fr",
    dictionary: {
      "Autoscale": "Échelle automatique",
      "Box Select": "Sélection rectangulaire",
      "Click to enter Colorscale title": "Cliquez pour saisir le titre de l'échelle de couleurs",
      "Click to enter Plot title": "Cliquez pour saisir le titre",
      "Compare data on hover": "Comparer les données au survol",
      "Double-click on legend to isolate one trace": "Double-cliquez sur la légende pour isoler une série",
      "Double-click to zoom back out": "Double-cliquez pour dézoomer",
      "Download plot": "Télécharger l'image",
      "Download plot as a PNG": "Télécharger l'image PNG",
      "Download plot as JSON": "Télécharger les données JSON",
      "Draw circle": "Dessiner un cercle",
      "Draw closed freeform": "Dessiner une forme fermée",
      "Draw line": "Dessiner une ligne",
      "Draw open freeform": "Dessiner une forme ouverte",
      "Draw rectangle": "Dessiner un rectangle",
      "Erase active shape": "Effacer la forme active",
      "Image download succeeded": "Image téléchargée",
      "Lasso Select": "Sélection au lasso",
      "Pan": "Déplacer",
      "Preparing image - this may take a few seconds": "Préparation de l'image : quelques secondes…",
      "Produced with Plotly.js": "Réalisé avec Plotly.js",
      "Reset": "Réinitialiser",
      "Reset axes": "Réinitialiser les axes",
      "Reset view": "Revenir à la vue d'origine",
      "Reset views": "Revenir aux vues d'origine",
      "Show closest data on hover": "Afficher la donnée la plus proche au survol",
      "Snapshot succeeded": "Capture réussie",
      "Sorry, there was a problem downloading your image!": "Le téléchargement de l'image a échoué.",
      "Sorry, there was a problem downloading your JSON file!": "Le téléchargement du fichier JSON a échoué.",
      "Toggle show closest data on hover": "Afficher ou non la donnée la plus proche au survol",
      "Toggle Spike Lines": "Afficher ou non les lignes de repère",
      "Zoom": "Zoomer",
      "Zoom in": "Zoom avant",
      "Zoom out": "Zoom arrière",
      "max": "max",
      "min": "min",
      "new text": "nouveau texte",
    },
    format: {
      days: ["dimanche", "lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi"],
      shortDays: ["dim.", "lun.", "mar.", "mer.", "jeu.", "ven.", "sam."],
      months: ["janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre",
        "novembre", "décembre"],
      shortMonths: ["janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août", "sept.", "oct.", "nov.",
        "déc."],
      date: "%d/%m/%Y",
      decimal: ",",
      thousands: "\u202f",
    },
  };

  if (window.Plotly && typeof window.Plotly.register === "function") {
    window.Plotly.register(locale);
  } else {
    window.PlotlyLocales = (Array.isArray(window.PlotlyLocales) ? window.PlotlyLocales : []).concat([locale]);
  }
})();
