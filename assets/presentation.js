/* ctg-carto: presentation mode (keyboard, full screen) and print layout (map frozen as an image before printing).
 * Keys only act in presentation mode and never while typing in a field: → / espace / Page suivante = next stop,
 * ← / Page précédente = previous stop, Échap = leave (a first Échap in full screen is taken by the browser itself).
 * The keys click the buttons of the presentation bar, so Dash callbacks do the work (see presentation_callbacks.py).
 */
(function () {
  "use strict";

  function mode(search) {
    const query = new URLSearchParams(search || "");
    if (query.get("presentation") === "1") { return "presentation"; }
    if (query.get("impression") === "1") { return "impression"; }
    return "";
  }

  /* The real map frame (issue 13): its width, its top on the page, and the legends drawn over its left edge, so the
   * server fits the territory to what is really shown (dashboard.map.figures.map_frame). Measured when the URL
   * changes, and again whenever the map's box changes (mode switch, window resized): the page layout changes after
   * the URL, so the first measure of a mode switch can be stale. */
  const VIEWPORT_KEYS = ["mode", "height", "map_width", "map_top", "legend_px"];
  let lastViewport = null;

  function measure(search) {
    const next = { mode: mode(search), height: window.innerHeight, width: window.innerWidth };
    const map = document.getElementById("carte");
    const legends = document.querySelector(".map-panel > .legends");
    if (map) {
      const box = map.getBoundingClientRect();
      next.map_width = Math.round(box.width);
      next.map_top = Math.round(box.top + window.scrollY);
      const overlay = legends && window.getComputedStyle(legends).position === "absolute";
      next.legend_px = overlay ? Math.round(legends.getBoundingClientRect().right - box.left) : 0;
    }
    return next;
  }

  function same(a, b) {
    return !!a && VIEWPORT_KEYS.every(function (k) { return a[k] === b[k]; });
  }

  let pending = null;
  function remeasure() {
    clearTimeout(pending);
    pending = setTimeout(function () {
      const next = measure(window.location.search);
      if (!lastViewport || same(lastViewport, next) || !window.dash_clientside.set_props) { return; }
      lastViewport = next;
      window.dash_clientside.set_props("fenetre-affichage", { data: next });
    }, 200);
  }
  window.addEventListener("resize", remeasure);
  function observe() {
    const map = document.getElementById("carte");
    if (!map || !window.ResizeObserver) { setTimeout(observe, 300); return; }
    new ResizeObserver(remeasure).observe(map);
    new MutationObserver(remeasure).observe(document.getElementById("page") || document.body,
      { attributes: true, attributeFilter: ["class"] });
  }
  observe();

  window.dash_clientside = Object.assign({}, window.dash_clientside, {
    ctgPresentation: {
      viewport: function (search, previous) {
        const next = measure(search);
        if (same(previous, next)) { return window.dash_clientside.no_update; }
        lastViewport = next;
        return next;
      },
    },
  });

  function click(id) {
    const button = document.getElementById(id);
    if (button) { button.click(); }
  }

  function presenting() {
    return document.querySelector(".page.presentation") !== null;
  }

  function typing(target) {
    if (!target || !target.tagName) { return false; }
    return ["INPUT", "TEXTAREA", "SELECT"].includes(target.tagName) || target.isContentEditable;
  }

  function toggleFullscreen(on) {
    const root = document.documentElement;
    if (on && !document.fullscreenElement && root.requestFullscreen) {
      root.requestFullscreen().catch(function () { /* refused (no user gesture): the mode works without it */ });
    } else if (!on && document.fullscreenElement && document.exitFullscreen) {
      document.exitFullscreen().catch(function () {});
    }
  }

  document.addEventListener("keydown", function (event) {
    if (!presenting() || typing(event.target) || event.altKey || event.ctrlKey || event.metaKey) { return; }
    const key = event.key;
    if (key === "ArrowRight" || key === " " || key === "Spacebar" || key === "PageDown") {
      event.preventDefault();
      click("presentation-suivant");
    } else if (key === "ArrowLeft" || key === "PageUp") {
      event.preventDefault();
      click("presentation-precedent");
    } else if (key === "Escape" || key === "Esc") {
      event.preventDefault();
      click("presentation-quitter");
    }
  });

  document.addEventListener("click", function (event) {
    const target = event.target && event.target.closest ? event.target.closest("button") : null;
    if (!target) { return; }
    if (target.id === "mode-presentation") { toggleFullscreen(true); }
    if (target.id === "presentation-plein-ecran") { toggleFullscreen(!document.fullscreenElement); }
    if (target.id === "presentation-quitter") { toggleFullscreen(false); }
  });

  /* Print layout: a WebGL canvas prints as a blank rectangle, so once the map is drawn and the callbacks are quiet,
   * put a PNG of the map (Plotly.toImage, same figure) in its place. Re-done if the map changes afterwards. */
  let lastChange = Date.now();
  let frozenAt = 0;

  function graph() { return document.querySelector("#carte .js-plotly-plot"); }

  function freeze() {
    const gd = graph();
    if (!gd || !window.Plotly || !document.querySelector(".page.impression")) { return; }
    const sub = gd._fullLayout && gd._fullLayout.map && gd._fullLayout.map._subplot;
    if (!sub || !sub.map || !sub.map.loaded()) { return; }
    if (frozenAt >= lastChange || Date.now() - lastChange < 1200) { return; }
    const started = Date.now();
    window.Plotly.toImage(gd, { format: "png", width: gd.clientWidth, height: gd.clientHeight, scale: 2 })
      .then(function (url) {
        if (lastChange > started) { return; }
        // Appended to <body> over the map (not inside React-managed nodes).
        let img = document.getElementById("carte-image");
        if (!img) {
          img = document.createElement("img");
          img.id = "carte-image";
          img.alt = "Carte";
          img.className = "map-image";
          document.body.appendChild(img);
        }
        const box = gd.getBoundingClientRect();
        img.src = url;
        Object.assign(img.style, {
          position: "absolute",
          left: box.left + window.scrollX + "px",
          top: box.top + window.scrollY + "px",
          width: box.width + "px",
          height: box.height + "px",
        });
        document.documentElement.classList.add("carte-figee");
        frozenAt = Date.now();
      })
      .catch(function () {});
  }

  function watch() {
    const gd = graph();
    if (gd && gd.on && !gd.dataset.ctgWatched) {
      gd.dataset.ctgWatched = "1";
      gd.on("plotly_afterplot", function () { lastChange = Date.now(); });
      gd.on("plotly_relayout", function () { lastChange = Date.now(); });
    }
    freeze();
  }

  function mapDrawn() {
    const gd = graph();
    const sub = gd && gd._fullLayout && gd._fullLayout.map && gd._fullLayout.map._subplot;
    if (!(sub && sub.map && sub.map.loaded() && sub.map.areTilesLoaded())) { return false; }
    /* The map style is "loaded" before plotly has fetched the GeoJSON and added the choropleth layers: wait for
       them, or a quiet page would be captured with an empty map. */
    const fills = (sub.map.getStyle().layers || []).filter(function (l) {
      return l.id.indexOf("plotly-trace-layer-") === 0 && /-fill$/.test(l.id);
    }).length;
    const expected = (gd._fullData || []).filter(function (t) {
      return t.type === "choroplethmap" && t.visible === true && t.locations && t.locations.length > 0;
    }).length;
    return expected > 0 && fills >= expected;
  }

  /* The view asked by the URL has reached the figure: zone layers shown, EPCI or commune zoom applied, fitted to the
     map's current width. The page first draws the default view, then the URL's values arrive through callbacks;
     capturing in between would export the wrong map. */
  function urlViewApplied() {
    const gd = graph();
    if (!gd || !gd._fullData || !gd.layout || !gd.layout.map) { return false; }
    const params = new URLSearchParams(window.location.search);
    const zones = ["epci", "qpv2015", "qpv2024", "zrr", "frr", "ctg"];
    const visible = gd._fullData.filter(function (t) { return t.visible === true; }).map(function (t) { return t.name; });
    const wanted = (params.get("couches") || "").split(",").filter(function (z) { return zones.indexOf(z) >= 0; });
    const epci = params.get("epci") || "";
    const commune = params.get("commune") || "";
    /* The view patch tags the map "<epci or dep>:<commune>:<width>x<height>" (dashboard.map.callbacks.view_patch);
       the width must be the map's current one: a re-measured frame refits the view a moment later. */
    const applied = String(gd.layout.map.uirevision || "").split(":");
    const frame = document.getElementById("carte");
    const width = frame ? String(Math.round(frame.getBoundingClientRect().width)) : "";
    return wanted.every(function (z) { return visible.indexOf(z) >= 0; })
      && (!epci || applied[0] === epci) && (!commune || applied[1] === commune)
      && (applied.length < 3 || !width || applied[2].split("x")[0] === width);
  }

  /* Asked by the export (dashboard/export_view.py) through the DevTools protocol before it captures the page. */
  window.ctgCarto = {
    ready: function () {
      return document.querySelector(".page.impression") !== null && urlViewApplied() && mapDrawn()
        && document.querySelector("[data-dash-is-loading]") === null && Date.now() - lastChange > 1000;
    },
    frozen: function () { return frozenAt >= lastChange && frozenAt > 0; },
  };

  window.setInterval(function () {
    if (document.querySelector(".page.impression")) { watch(); }
  }, 300);
})();
