// Placeholder until the Explorer front end lands (issue 4).
export default {
  render({ el }) {
    el.textContent = "deconv-widgets";
  },
};
