// A filter box above each long place picker (select[data-place-filter]): typing part of a
// name, in Kazakh or Russian, or a KATO code hides the places that do not match. Without
// JavaScript the grouped select works alone; the box is only added here.
(function () {
  "use strict";
  var MIN_OPTIONS = 8;

  function fold(text) {
    return (text || "").toLocaleLowerCase().replace(/\s+/g, " ").trim();
  }

  function attach(select, index) {
    var options = Array.prototype.slice.call(select.options);
    if (options.length < MIN_OPTIONS) {
      return;
    }
    var box = document.createElement("input");
    box.type = "search";
    box.id = (select.id || "place") + "-filter-" + index;
    box.className = "form-control form-control-sm mb-1 place-filter";
    box.setAttribute("aria-label", select.getAttribute("data-place-filter"));
    box.setAttribute("aria-controls", select.id);
    box.placeholder = select.getAttribute("data-place-filter");
    box.autocomplete = "off";
    select.parentNode.insertBefore(box, select);

    box.addEventListener("input", function () {
      var wanted = fold(box.value);
      options.forEach(function (option) {
        if (option.disabled && option.value === "") {
          return; // the "choose" prompt stays as it is
        }
        var text = fold(option.getAttribute("data-search") || option.textContent);
        var match = !wanted || text.indexOf(wanted) !== -1 || option.selected;
        option.hidden = !match; // the chosen place stays: hiding it would not unchoose it
      });
      Array.prototype.forEach.call(select.querySelectorAll("optgroup"), function (group) {
        var label = fold(group.label);
        var any = Array.prototype.some.call(group.children, function (o) { return !o.hidden; });
        if (wanted && label.indexOf(wanted) !== -1) {
          // The district's name matches: offer every place of it.
          Array.prototype.forEach.call(group.children, function (o) { o.hidden = false; });
          any = true;
        }
        group.hidden = !any;
      });
    });
  }

  Array.prototype.forEach.call(document.querySelectorAll("select[data-place-filter]"), attach);
})();
