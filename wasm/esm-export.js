export default createEarningsCore;
