// htmx enhances a few forms in place. When such a request fails (a service is down, the
// server erred), load the same address as a whole page: its error page says what to do.
document.addEventListener("htmx:responseError", function (event) {
  window.location.assign(event.detail.xhr.responseURL || window.location.href);
});
document.addEventListener("htmx:sendError", function () {
  window.location.reload();
});
