// Pattern builder: show only the fields the chosen pattern kind uses (all of them work without JS).
(function () {
  function setup(builder) {
    var kind = builder.querySelector("[data-pattern-kind]");
    var script = document.getElementById("pattern-fields");
    if (!kind || !script) return;
    var uses = JSON.parse(script.textContent);
    function update() {
      var wanted = uses[kind.value] || [];
      builder.querySelectorAll("[data-pattern-field]").forEach(function (field) {
        field.hidden = wanted.indexOf(field.getAttribute("data-pattern-field")) === -1;
      });
    }
    kind.addEventListener("change", update);
    update();
  }
  function init() {
    document.querySelectorAll("[data-pattern-builder]").forEach(setup);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
